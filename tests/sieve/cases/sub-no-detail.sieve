# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["envelope","subaddress","fileinto"];
if envelope :detail :matches "to" "*" { fileinto "HasDetail"; }
if envelope :user :is "to" "bob" { fileinto "User"; }
