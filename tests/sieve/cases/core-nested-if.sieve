# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if true { if false { fileinto "X"; } else { if true { fileinto "Deep"; } } }
