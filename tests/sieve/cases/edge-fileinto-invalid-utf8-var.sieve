# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["fileinto","variables","encoded-character"];
set "m" "${hex:ff fe}";
fileinto "${m}";
