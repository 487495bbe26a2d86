# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# known-difference: ihave-block-validation
require ["ihave","fileinto"];
if ihave "x-unknown" { frobnicate "x"; } else { fileinto "NoFrob"; }
