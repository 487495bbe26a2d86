# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: multipart-prologue
require ["body","fileinto"];
if body :content "multipart" :contains "preamble" { fileinto "Preamble"; }
