# message: folded.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","relational","comparator-i;ascii-numeric","fileinto"];
addheader "X-Multi" "fourth";
if header :count "eq" :comparator "i;ascii-numeric" "x-multi" "4" { fileinto "Four"; }
