# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["envelope","fileinto","variables"];
if envelope :matches "from" "*" { fileinto "F=${1}"; }
if envelope :matches "to" "*" { fileinto "T=${1}"; }
