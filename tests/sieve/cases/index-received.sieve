# message: dates.eml
# args: -f alice@example.com -a bob@example.org
require ["index","date","variables","fileinto"];
if date :index 1 :matches "received" "time" "*" { fileinto "First=${1}"; }
if date :index 1 :last :matches "received" "time" "*" { fileinto "Last=${1}"; }
