# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :matches "cc" "*@*" { fileinto "U=${1} D=${2}"; }
