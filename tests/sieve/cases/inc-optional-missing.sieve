# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["include","fileinto"];
include :optional "does-not-exist";
fileinto "Continued";
