# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "comparator-i;ascii-numeric";
if header :comparator "i;ascii-numeric" :contains "subject" "1" { discard; }
