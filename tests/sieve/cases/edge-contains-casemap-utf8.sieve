# message: encoded.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :contains "subject" "GRÜSSE" { fileinto "No"; }
if header :contains "subject" "grüße" { fileinto "ExactUtf8Lower"; }
