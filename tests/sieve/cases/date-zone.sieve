# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :zone "+0900" :matches "date" "date" "*" { fileinto "date=${1}"; }
if date :zone "+0900" :matches "date" "time" "*" { fileinto "time=${1}"; }
if date :zone "+0900" :matches "date" "zone" "*" { fileinto "zone=${1}"; }
if date :zone "+0900" :matches "date" "iso8601" "*" { fileinto "iso8601=${1}"; }
if date :zone "+0900" :matches "date" "std11" "*" { fileinto "std11=${1}"; }
if date :zone "+0900" :matches "date" "julian" "*" { fileinto "julian=${1}"; }
if date :zone "+0900" :matches "date" "weekday" "*" { fileinto "weekday=${1}"; }
