# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto"; # hash comment
/* bracket
   comment */ fileinto /* inline */ "C1";
# trailing
