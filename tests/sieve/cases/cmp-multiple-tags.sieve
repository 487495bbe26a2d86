# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if header :is :contains "subject" "x" { keep; }
