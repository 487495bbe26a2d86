# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
set "Name" "Value";
fileinto "${name}-${NAME}";
