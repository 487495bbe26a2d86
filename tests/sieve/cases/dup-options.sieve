# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["duplicate","fileinto"];
if duplicate :header "subject" :handle "h" :seconds 60 { fileinto "Dup"; }
if duplicate :uniqueid "x" :last { fileinto "Dup2"; }
fileinto "Checked";
