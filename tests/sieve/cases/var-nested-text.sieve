# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
set "n" "World";
fileinto text:
Hello ${n}
.
;
