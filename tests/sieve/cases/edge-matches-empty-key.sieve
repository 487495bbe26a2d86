# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
if header :matches "subject" "" { fileinto "No"; }
if header :is "x-none" "" { fileinto "AbsentIsEmpty"; }
