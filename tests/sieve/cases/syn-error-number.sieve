# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if size :over 99999999999999999999999 { keep; }
