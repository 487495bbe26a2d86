# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :is "subject" "nope" { fileinto "A"; }
elsif header :contains "subject" "world" { fileinto "B"; }
else { fileinto "C"; }
