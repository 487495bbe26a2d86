# message: basic.eml
# args: -f alice@example.com -a bob@example.org
if header :comparator "i;unicode-casemap" :is "subject" "x" { keep; }
