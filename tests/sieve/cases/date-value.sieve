# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :value "ge" :originalzone "date" "date" "2024-01-01" { fileinto "After2024"; }
if date :value "lt" "date" "year" "2000" { fileinto "Before2000"; }
