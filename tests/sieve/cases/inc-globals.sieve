# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["include","variables","fileinto"];
global "who";
set "who" "main";
include "setglobal";
include "useglobal";
