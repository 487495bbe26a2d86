# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# execute: yes
require "fileinto";
fileinto "INBOX";
keep;
