# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# ext: +editheader
require ["editheader","fileinto","variables","index"];
deleteheader "received";
if exists "received" { fileinto "StillThere"; }
addheader "Auto-Submitted" "yes";
if exists "auto-submitted" { fileinto "Added"; }
