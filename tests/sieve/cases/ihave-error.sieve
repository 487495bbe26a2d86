# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["ihave"];
if true { error "custom failure"; }
keep;
