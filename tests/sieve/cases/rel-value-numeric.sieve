# message: spam.eml
# args: -f alice@example.com -a bob@example.org
require ["relational","comparator-i;ascii-numeric","fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "GT5"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "LT5"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "7" { fileinto "GE7"; }
