# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: unknown-namespace
require ["variables","fileinto"];
set "a" "${foo.bar}";
