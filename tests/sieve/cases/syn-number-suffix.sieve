# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if size :under 1k { fileinto "K"; }
if size :under 1G { fileinto "G"; }
