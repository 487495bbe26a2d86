# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date "date" "century" "20" { keep; }
