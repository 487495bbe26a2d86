# message: nomsgid.eml
# args: -f alice@example.com -a bob@example.org
require ["duplicate","fileinto"];
if duplicate { fileinto "Dup"; }
fileinto "Checked";
