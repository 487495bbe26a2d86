# message: vacation.eml
# args: -f bob@example.org -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
