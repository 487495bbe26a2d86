# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if allof (true, header :contains "from" "alice") { fileinto "Both"; }
if allof (true, false) { fileinto "No"; }
