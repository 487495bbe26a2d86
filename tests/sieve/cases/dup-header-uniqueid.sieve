# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "duplicate";
if duplicate :header "subject" :uniqueid "x" { keep; }
