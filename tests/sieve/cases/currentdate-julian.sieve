# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["date","relational","fileinto","comparator-i;ascii-numeric"];
if currentdate :value "gt" :comparator "i;ascii-numeric" "julian" "58000" { fileinto "Modern"; }
