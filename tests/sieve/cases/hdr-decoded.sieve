# message: encoded.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if header :contains "subject" "München" { fileinto "Decoded"; }
if header :matches "from" "*" { fileinto "F=${1}"; }
if header :matches "x-comment" "*" { fileinto "C=${1}"; }
