# message: spam.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto", "comparator-i;ascii-numeric"];
if header :comparator "i;ascii-numeric" :is "x-spam-score" "7" { fileinto "Seven"; }
if header :comparator "i;ascii-numeric" :is "subject" "abc" { fileinto "InfEqInf"; }
