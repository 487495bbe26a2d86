# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :raw :contains "Regards, Alice" { fileinto "Raw"; }
