# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["subaddress","fileinto","variables"];
if address :detail :matches "cc" "*" { fileinto "D=${1}"; }
if address :user :is "cc" "dave" { fileinto "Dave"; }
