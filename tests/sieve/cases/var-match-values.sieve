# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if header :matches "subject" "*l*o*" { fileinto "${0}|${1}|${2}|${3}|${4}"; }
