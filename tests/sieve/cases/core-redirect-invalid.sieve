# message: basic.eml
# args: -f alice@example.com -a bob@example.org
redirect "not an address";
