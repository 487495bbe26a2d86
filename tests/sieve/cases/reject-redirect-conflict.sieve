# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "reject";
redirect "a@example.net";
reject "x";
