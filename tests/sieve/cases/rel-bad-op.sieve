# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["relational","comparator-i;ascii-numeric","fileinto"];
if header :value "xx" "subject" "a" { keep; }
