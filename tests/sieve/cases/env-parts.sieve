# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["envelope","fileinto"];
if envelope :localpart :is "from" "alice" { fileinto "LP"; }
if envelope :domain :is "to" "EXAMPLE.org" { fileinto "Dom"; }
