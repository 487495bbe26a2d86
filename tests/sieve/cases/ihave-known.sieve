# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["ihave","fileinto"];
if ihave "fileinto" { fileinto "HaveFileinto"; }
if ihave ["envelope","body"] { fileinto "HaveBoth"; }
