# message: basic.eml
# args: -f alice@example.com -a bob+@example.org
require ["envelope","subaddress","fileinto"];
if envelope :detail :is "to" "" { fileinto "EmptyDetail"; }
