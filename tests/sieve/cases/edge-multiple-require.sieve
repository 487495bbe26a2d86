# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
require ["copy", "variables"];
require "imap4flags";
fileinto :copy "A";
