# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["relational","comparator-i;ascii-numeric","fileinto"];
if address :count "eq" :comparator "i;ascii-numeric" ["to","cc"] "3" { fileinto "Three"; }
if address :count "ge" :comparator "i;ascii-numeric" "cc" "2" { fileinto "Cc2"; }
