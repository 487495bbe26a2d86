# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if header :index 1 "subject" "x" { keep; }
