# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :zone "-0330" :matches "date" "iso8601" "*" { fileinto "M=${1}"; }
