# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :text :contains "quarterly" { fileinto "Text"; }
if body :text :contains "secret" { fileinto "NotPdf"; }
