# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "imap4flags";
addflag "\\Seen";
removeflag "\\Seen";
addflag "Junk";
