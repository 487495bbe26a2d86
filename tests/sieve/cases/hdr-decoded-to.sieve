# message: encoded.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if header :matches "to" "*" { fileinto "T=${1}"; }
