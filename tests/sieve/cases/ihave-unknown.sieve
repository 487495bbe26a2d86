# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["ihave","fileinto"];
if ihave "x-unknown" { frobnicate "x"; } else { fileinto "NoFrob"; }
