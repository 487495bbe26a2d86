# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","mailbox","copy","imap4flags"];
fileinto :flags "a" :create :copy "A";
fileinto :copy :create :flags "b" "B";
fileinto :create :flags "c" :copy "C";
