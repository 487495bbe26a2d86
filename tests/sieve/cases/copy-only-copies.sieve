# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","copy"];
fileinto :copy "A";
redirect :copy "x@example.net";
