# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if anyof (false, header :contains "to" "bob") { fileinto "Any"; }
if anyof (false, false) { fileinto "No"; }
