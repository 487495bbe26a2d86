# message: vacation.eml
# args: -f carol@example.net -r bob@example.org
# execute: yes
require "vacation";
redirect "dave@example.net";
vacation "away";
