# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "variables";
set "a" "one@example.net";
redirect "${a}";
redirect "two@example.net";
