# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if size 100 { discard; }
