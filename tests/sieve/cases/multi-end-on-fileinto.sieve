# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# before: before-keep.sieve
# before: before-fileinto.sieve
discard;
