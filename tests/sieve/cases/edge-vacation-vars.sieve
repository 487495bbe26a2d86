# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require ["vacation","variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
vacation :subject "Re: ${s}" :from "bob@example.org" "Away ${s}";
