# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if address :localpart :is "from" "alice" { fileinto "LP"; }
if address :localpart :is "to" "bob" { fileinto "LPTo"; }
