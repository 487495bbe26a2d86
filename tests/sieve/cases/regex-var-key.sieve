# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","variables","fileinto"];
set "pat" "w.rld";
if header :regex "subject" "${pat}" { fileinto "VarRegex"; }
