# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if string :matches ["nope", "bob@example.org"] "*@*" { fileinto "U=${1}"; }
