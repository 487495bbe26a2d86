# message: vacation.eml
# args: -f alice@example.com -a bob@example.org
# config: sieve_vacation_default_period = 2d
require "vacation";
vacation "x";
