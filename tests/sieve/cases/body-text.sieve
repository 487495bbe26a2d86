# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["body","fileinto"];
if body :contains "quarterly" { fileinto "Body"; }
if body :text :contains "nope" { fileinto "No"; }
