# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["reject","variables"];
set "r" "spam";
reject "Rejected as ${r}";
