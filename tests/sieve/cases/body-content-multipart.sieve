# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :content "text/html" :contains "<b>" { fileinto "Html"; }
if body :content "text/plain" :contains "<b>" { fileinto "NoPlainTag"; }
if body :content "text" :contains "disk full" { fileinto "Log"; }
if body :content "application/pdf" :contains "secret" { fileinto "Pdf"; }
