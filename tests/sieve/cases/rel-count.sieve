# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require ["relational","comparator-i;ascii-numeric","fileinto"];
if header :count "eq" :comparator "i;ascii-numeric" "x-multi" "3" { fileinto "Three"; }
if header :count "gt" :comparator "i;ascii-numeric" ["x-multi","from"] "3" { fileinto "MoreThan3"; }
if address :count "eq" :comparator "i;ascii-numeric" ["to","cc"] "3" { fileinto "Addr3"; }
