# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["imap4flags","fileinto","variables"];
set "v" "a";
addflag "v" ["b","c b"];
removeflag "v" "a";
fileinto "v=${v}";
if hasflag "v" "c" { fileinto "HasC"; }
fileinto :flags "${v}" "Flagged";
