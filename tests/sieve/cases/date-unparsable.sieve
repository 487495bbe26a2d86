# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :matches "x-date" "year" "*" { fileinto "Y=${1}"; }
if date :matches "x-none" "year" "*" { fileinto "None"; }
