# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
addflag "x";
fileinto :flags "" "B";
