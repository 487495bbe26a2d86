# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto", "variables"];
if header :matches "subject" "*" { fileinto "S=${0}"; }
if header :matches "keywords" "*" { fileinto "K=${0}"; }
