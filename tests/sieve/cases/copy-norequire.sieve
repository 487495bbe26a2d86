# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
fileinto :copy "A";
