# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
set "x" "hello";
if string :is "${x}" "hello" { fileinto "Is"; }
if string :contains ["a","${x}"] "ell" { fileinto "Contains"; }
