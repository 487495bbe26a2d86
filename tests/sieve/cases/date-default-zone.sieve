# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :matches "date" "iso8601" "*" { fileinto "D=${1}"; }
if date :matches "date" "zone" "*" { fileinto "Z=${1}"; }
