# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","variables","fileinto"];
if header :regex "from" "^(.*) <(.*)@(.*)>$" { fileinto "${1}|${2}|${3}|${0}"; }
