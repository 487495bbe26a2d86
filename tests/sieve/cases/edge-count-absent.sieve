# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
if header :count "eq" :comparator "i;ascii-numeric" "x-none" "0" { fileinto "Zero"; }
if header :count "lt" :comparator "i;ascii-numeric" "subject" "2" { fileinto "LessThan2"; }
