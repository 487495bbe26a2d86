# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :originalzone :matches "resent-date" "std11" "*" { fileinto "R=${1}"; }
