# message: multipart.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: multipart-epilogue-extra
require ["body","fileinto"];
if body :content "multipart/mixed" :matches "?This is the epilogue.*" { fileinto "EL1"; }
if body :content "multipart/mixed" :matches "??This is the epilogue.*" { fileinto "EL2"; }
