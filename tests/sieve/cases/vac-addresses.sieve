# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require "vacation";
vacation :addresses ["bob@example.org", "robert@example.org"] :subject "" "x";
