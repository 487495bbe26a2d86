# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if header :matches "received" "*for <*>*" { fileinto "For-${2}"; }
