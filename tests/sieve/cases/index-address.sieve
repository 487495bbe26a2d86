# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["index","date","variables","fileinto"];
if address :index 2 :matches "x-multi" "*" { fileinto "No"; }
if address :index 1 :is "from" "alice@example.com" { fileinto "FromIdx"; }
