# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["ihave"];
if anyof(ihave "x-foo", true) { frob; }
