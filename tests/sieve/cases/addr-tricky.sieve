# message: addresses.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables"];
if address :matches :all "from" "*" { fileinto "From=${1}"; }
if address :matches "reply-to" "*" { fileinto "RT=${1}"; }
if address :is "bcc" "bob@example.org" { fileinto "Bcc"; }
if address :is "resent-to" "bob+archive@example.org" { fileinto "Resent"; }
if address :is "x-original-to" "bob@example.org" { fileinto "XOrig"; }
