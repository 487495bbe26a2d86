# message: list.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
if header :matches "list-id" "*<*.*>*" { fileinto "Lists/${2}"; }
