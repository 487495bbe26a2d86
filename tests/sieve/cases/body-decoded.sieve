# message: encoded.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :contains "café" { fileinto "Utf8"; }
