# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","comparator-i;ascii-numeric"];
if header :regex :comparator "i;ascii-numeric" "subject" "x" { keep; }
