# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
addheader "X-New" "v1";
addheader :last "X-New" "v2";
if header :index 1 :matches "x-new" "*" { fileinto "First=${1}"; }
if header :index 1 :last :matches "x-new" "*" { fileinto "Last=${1}"; }
