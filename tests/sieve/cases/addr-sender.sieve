# message: addresses.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :localpart :matches "sender" "*" { fileinto "S=${1}"; }
