# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if address :localpart :matches "from" "*" { fileinto "Users/${1}"; }
