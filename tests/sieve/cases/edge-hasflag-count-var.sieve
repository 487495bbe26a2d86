# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
setflag "v" "a b c";
if hasflag :count "eq" :comparator "i;ascii-numeric" "v" "3" { fileinto "Three"; }
