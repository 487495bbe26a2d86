# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if address :domain :is "cc" "example.net" { fileinto "Dom"; }
if address :domain :contains "from" "EXAMPLE" { fileinto "DomC"; }
