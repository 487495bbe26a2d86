# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
# config: sieve_vacation_max_period = 10d
require "vacation";
vacation :days 30 "x";
