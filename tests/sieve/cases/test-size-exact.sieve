# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if size :over 575 { fileinto "Over575"; }
if size :over 576 { fileinto "Over576"; }
if size :under 577 { fileinto "Under577"; }
if size :under 576 { fileinto "Under576"; }
