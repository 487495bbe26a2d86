# message: vacation.eml
# args: -f carol@example.net -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
