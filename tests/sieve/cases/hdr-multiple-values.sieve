# message: folded.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :is "x-multi" "second value" { fileinto "Second"; }
if header :is "x-multi" "third value with spaces" { fileinto "Trimmed"; }
