# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["date","variables","fileinto","relational"];
if date :originalzone :matches "date" "year" "*" { fileinto "year=${1}"; }
if date :originalzone :matches "date" "month" "*" { fileinto "month=${1}"; }
if date :originalzone :matches "date" "day" "*" { fileinto "day=${1}"; }
if date :originalzone :matches "date" "date" "*" { fileinto "date=${1}"; }
if date :originalzone :matches "date" "julian" "*" { fileinto "julian=${1}"; }
if date :originalzone :matches "date" "hour" "*" { fileinto "hour=${1}"; }
if date :originalzone :matches "date" "minute" "*" { fileinto "minute=${1}"; }
if date :originalzone :matches "date" "second" "*" { fileinto "second=${1}"; }
if date :originalzone :matches "date" "time" "*" { fileinto "time=${1}"; }
if date :originalzone :matches "date" "iso8601" "*" { fileinto "iso8601=${1}"; }
if date :originalzone :matches "date" "std11" "*" { fileinto "std11=${1}"; }
if date :originalzone :matches "date" "zone" "*" { fileinto "zone=${1}"; }
if date :originalzone :matches "date" "weekday" "*" { fileinto "weekday=${1}"; }
