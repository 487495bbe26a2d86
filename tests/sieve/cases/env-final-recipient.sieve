# message: basic.eml
# args: -f alice@example.com -a bob@example.org -r bobby@example.org
require ["envelope","fileinto","variables"];
if envelope :matches "to" "*" { fileinto "T=${1}"; }
