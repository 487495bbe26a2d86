# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :comparator "i;octet" :is "subject" "HELLO WORLD" { fileinto "No"; }
if header :comparator "i;octet" :is "subject" "Hello world" { fileinto "Yes"; }
