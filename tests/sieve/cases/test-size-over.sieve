# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if size :over 100 { fileinto "Over100"; }
if size :over 100K { fileinto "Over100K"; }
if size :under 1M { fileinto "Under1M"; }
