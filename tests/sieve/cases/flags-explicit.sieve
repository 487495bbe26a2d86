# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
fileinto :flags ["\\Seen", "foo bar"] "A";
keep :flags "\\Deleted";
