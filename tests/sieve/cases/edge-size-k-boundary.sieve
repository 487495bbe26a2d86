# message: big.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if size :over 140K { fileinto "Over140K"; }
if size :under 141K { fileinto "Under141K"; }
