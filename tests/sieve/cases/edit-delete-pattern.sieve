# message: folded.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
deleteheader :contains "x-multi" "second";
if header :index 2 :matches "x-multi" "*" { fileinto "Now2=${1}"; }
