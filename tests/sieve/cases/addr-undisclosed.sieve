# message: addresses.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :matches "to" "*" { fileinto "To=${1}"; }
