# message: basic.eml
# args: -f alice@example.com -a bob@example.org
discard;
keep;
