# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if false { fileinto "A"; } elsif false { fileinto "B"; } else { fileinto "C"; }
