# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :matches "received" "iso8601" "*" { fileinto "R=${1}"; }
