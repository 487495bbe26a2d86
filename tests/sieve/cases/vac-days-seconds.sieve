# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
# ext: +vacation-seconds
require "vacation-seconds";
vacation :days 1 :seconds 5 "x";
