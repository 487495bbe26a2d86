# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "envelope";
if envelope "orig_to" "x" { keep; }
