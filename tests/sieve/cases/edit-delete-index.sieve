# message: folded.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
deleteheader :index 1 "x-multi";
if header :index 1 :matches "x-multi" "*" { fileinto "First=${1}"; }
