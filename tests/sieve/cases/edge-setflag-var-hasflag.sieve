# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","relational","comparator-i;ascii-numeric","imap4flags","copy"];
setflag "myvar" "x y";
if hasflag "myvar" "y" { fileinto "HasY"; }
if hasflag ["myvar","none"] "z" { fileinto "No"; }
