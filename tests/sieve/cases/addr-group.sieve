# message: addresses.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :is "cc" "ben@example.com" { fileinto "Ben"; }
if address :is "cc" "chris@example.com" { fileinto "Chris"; }
