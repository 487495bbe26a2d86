# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["envelope","fileinto"];
if envelope :is ["to","from"] ["nobody@x","alice@example.com"] { fileinto "Either"; }
