# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require ["index","date","variables","fileinto"];
if header :index 1 :matches ["x-multi","subject"] "*" { fileinto "V=${1}"; }
