# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if address :user "from" "x" { keep; }
