# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","imap4flags","copy"];
keep :flags "a";
fileinto :copy :flags "b" "INBOX";
fileinto "INBOX";
