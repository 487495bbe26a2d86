# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["regex","variables","fileinto"];
if header :regex "subject" "^H.*d$" { fileinto "Re"; }
if header :regex "subject" "^h" { fileinto "CaseInsensitive"; }
if header :regex :comparator "i;octet" "subject" "^h" { fileinto "Octet"; }
