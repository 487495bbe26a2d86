# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if not false { fileinto "NotFalse"; }
if not true { fileinto "NotTrue"; }
