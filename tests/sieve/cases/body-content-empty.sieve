# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :content "" :contains "ERROR" { fileinto "AnyType"; }
