# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["include","fileinto"];
include :once "sub";
include :once "sub";
