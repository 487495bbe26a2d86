# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["encoded-character", "fileinto"];
fileinto "${unicode:D800}";
