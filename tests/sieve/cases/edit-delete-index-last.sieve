# message: folded.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
deleteheader :index 1 :last "x-multi";
if header :index 1 :last :matches "x-multi" "*" { fileinto "Last=${1}"; }
