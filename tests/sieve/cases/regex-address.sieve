# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","variables","fileinto"];
if address :regex :domain "cc" "^example\\.(net|com)$" { fileinto "RegexDomain"; }
