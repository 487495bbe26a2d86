# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :zone "+0100" :originalzone "date" "year" "2024" { keep; }
