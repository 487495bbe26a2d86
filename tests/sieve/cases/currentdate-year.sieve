# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if currentdate :value "ge" "year" "2020" { fileinto "Recent"; }
if currentdate :zone "+0000" :matches "zone" "*" { fileinto "Z=${1}"; }
