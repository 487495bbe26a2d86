# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto","relational","comparator-i;ascii-numeric"];
addflag ["x","y","z"];
if hasflag :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "Three"; }
if hasflag :matches "?" { fileinto "Single"; }
