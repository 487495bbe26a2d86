# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :zone "bogus" :matches "date" "zone" "*" { fileinto "Z=${1}"; }
