# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
if allof(not anyof(false, header :is "subject" "x"), anyof(not true, exists "from")) { fileinto "Logic"; }
