# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
if header :matches "from" "*" { addheader "X-Orig-From" "${1}"; }
if header :contains "x-orig-from" "alice" { fileinto "Copied"; }
