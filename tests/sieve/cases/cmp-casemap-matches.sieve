# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :comparator "i;ascii-casemap" :matches "subject" "HELLO*" { fileinto "Yes"; }
