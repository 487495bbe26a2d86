# message: encbody.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :contains "Café au lait" { fileinto "QP"; }
if body :contains "hunter2" { fileinto "B64"; }
