# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "spamtest";
if spamtest "1" { keep; }
