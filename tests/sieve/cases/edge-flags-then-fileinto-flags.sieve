# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
setflag "a";
fileinto :flags "b" "B";
fileinto "C";
