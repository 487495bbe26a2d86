# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["include","variables","fileinto"];
set "global.who" "ns";
include "useglobal";
