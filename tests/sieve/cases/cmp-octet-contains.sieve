# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :comparator "i;octet" :contains "subject" "World" { fileinto "No"; }
if header :comparator "i;octet" :contains "subject" "world" { fileinto "Yes"; }
