# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
addheader "Subject" "=?utf-8?q?caf=C3=A9?=";
if header :matches "subject" "*" { fileinto "S=${1}"; }
