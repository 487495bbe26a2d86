# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require "vacation";
vacation :from "Bob <bob@example.org>" :handle "h1" :mime text:
Content-Type: text/plain

Away.
.
;
