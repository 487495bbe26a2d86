# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :contains "subject" "lo wo" { fileinto "Contains"; }
if header :contains "subject" "" { fileinto "Empty"; }
