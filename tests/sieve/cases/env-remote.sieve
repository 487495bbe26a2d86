# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["environment","fileinto","variables"];
if environment :matches "remote-ip" "*" { fileinto "IP=${1}"; }
