# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
# ext: +vacation-seconds
# config: sieve_vacation_min_period = 1h
require "vacation-seconds";
vacation :seconds 3600 "x";
