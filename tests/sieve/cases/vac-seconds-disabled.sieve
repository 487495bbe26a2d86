# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require "vacation-seconds";
vacation :seconds 3600 "x";
