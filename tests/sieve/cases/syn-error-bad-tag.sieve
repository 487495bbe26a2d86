# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if header :frob "subject" "x" { keep; }
