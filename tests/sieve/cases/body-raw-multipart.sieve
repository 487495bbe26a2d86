# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :raw :contains "boundary" { fileinto "No"; }
if body :raw :contains "--inner" { fileinto "RawBoundary"; }
