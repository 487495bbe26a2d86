# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
addflag "\\Seen \\Draft $Label1";
removeflag "\\seen";
fileinto "A";
