# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "fileinto";
if header :contains ["x-nope", "from"] ["zzz", "alice"] { fileinto "Multi"; }
