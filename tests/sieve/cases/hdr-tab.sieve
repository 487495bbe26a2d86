# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if header :matches "x-tab" "*" { fileinto "T=${1}"; }
