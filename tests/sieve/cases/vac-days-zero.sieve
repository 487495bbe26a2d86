# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
require "vacation";
vacation :days 0 "x";
