# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# before: before-flags.sieve
require "fileinto";
if false { fileinto "X"; }
