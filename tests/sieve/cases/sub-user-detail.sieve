# message: basic.eml
# args: -f alice@example.com -a bob+lists+x@example.org
require ["envelope","subaddress","fileinto","variables"];
if envelope :user :matches "to" "*" { fileinto "U=${1}"; }
if envelope :detail :matches "to" "*" { fileinto "D=${1}"; }
