# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# before: before-spam.sieve
require "fileinto";
if header :contains "subject" "hello" { fileinto "UserRule"; }
