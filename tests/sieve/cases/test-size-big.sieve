# message: big.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if size :over 100K { fileinto "Big"; }
if size :under 200K { fileinto "NotHuge"; }
