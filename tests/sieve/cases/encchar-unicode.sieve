# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["encoded-character", "fileinto"];
fileinto "${unicode:48 e9 263A}";
