# message: vacation.eml
# args: -f carol@example.net -r bob+vac@example.org
# execute: yes
require "vacation";
vacation :addresses "bob@example.org" "away";
