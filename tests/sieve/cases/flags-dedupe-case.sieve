# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto"];
addflag ["a","A","\\SEEN","\\seen"];
if hasflag :comparator "i;octet" "A" { fileinto "HasUpperA"; }
if hasflag "a" { fileinto "HasA"; }
