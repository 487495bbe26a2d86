# message: spam.eml
# args: -f alice@example.com -a bob@example.org
# before: before-spam.sieve
require "fileinto";
fileinto "UserRule";
