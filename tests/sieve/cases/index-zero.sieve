# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["index","date","variables","fileinto"];
if header :index 0 "subject" "x" { keep; }
