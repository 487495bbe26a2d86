# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if address :is "from" "alice@example.com" { fileinto "FromAlice"; }
if address :all :is "cc" "DAVE+LISTS@example.net" { fileinto "CcDave"; }
