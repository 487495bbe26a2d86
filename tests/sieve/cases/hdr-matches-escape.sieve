# message: spam.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :matches "subject" "*SPAM\\*\\*\\**" { fileinto "Escaped"; }
if header :matches "subject" "\\?*" { fileinto "No"; }
