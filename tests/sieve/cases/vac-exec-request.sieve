# message: vacation.eml
# args: -f devel-request@example.net -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
