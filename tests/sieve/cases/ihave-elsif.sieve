# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["ihave"];
if ihave "x-foo" { frob; } elsif ihave "fileinto" { fileinto "Y"; }
