# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["environment","fileinto","variables"];
if environment :is "location" "MS" { fileinto "MS"; }
if environment :is "phase" "post" { fileinto "Post"; }
if environment :matches "domain" "*" { fileinto "HasDomain"; }
if environment :contains "host" "" { fileinto "HasHost"; }
if environment :matches "unknown-item" "*" { fileinto "No"; }
