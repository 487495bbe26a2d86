# message: auto.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :all :matches "from" "*" { fileinto "F=${1}"; }
