# message: big.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :contains "line 01999" { fileinto "Found"; }
