# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if header :matches "subject" "H?l*" { fileinto "${1}|${2}"; }
