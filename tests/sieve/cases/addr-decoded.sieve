# message: encoded.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :all :matches "from" "*" { fileinto "F=${1}"; }
if address :domain :is "to" "example.se" { fileinto "Se"; }
