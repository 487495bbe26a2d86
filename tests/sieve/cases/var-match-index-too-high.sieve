# message: basic.eml
# known-difference: match-index-error
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
set "a" "${33}x";
