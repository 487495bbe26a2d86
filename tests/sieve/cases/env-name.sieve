# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: environment-name
require ["environment","fileinto","variables"];
if environment :matches "name" "*" { fileinto "Name=${1}"; }
