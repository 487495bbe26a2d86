# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
addflag ["\\Seen","\\Answered"];
fileinto "A";
addflag "\\Flagged";
keep;
