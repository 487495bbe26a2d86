# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :content "multipart/mixed" :matches "This is the preamble.?" { fileinto "P1"; }
if body :content "multipart/mixed" :matches "This is the epilogue.?" { fileinto "E1"; }
if body :content "multipart/alternative" :is "" { fileinto "AltEmpty"; }
if body :content "multipart" :contains "preamble" { fileinto "Pre"; }
if body :content "multipart" :contains "epilogue" { fileinto "Epi"; }
