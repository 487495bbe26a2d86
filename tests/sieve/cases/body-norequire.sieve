# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if body :contains "x" { keep; }
