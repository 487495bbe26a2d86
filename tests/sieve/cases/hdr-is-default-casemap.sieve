# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :is "subject" "HELLO WORLD" { fileinto "CaseInsensitive"; }
