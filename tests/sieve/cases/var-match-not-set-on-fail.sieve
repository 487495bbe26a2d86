# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if header :matches "subject" "Hel*" { set "x" "${1}"; }
if header :matches "subject" "Nope*" { }
fileinto "${1}-${x}";
