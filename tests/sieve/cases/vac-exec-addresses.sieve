# message: vacation.eml
# args: -f carol@example.net -a robert@example.org
# execute: yes
require "vacation";
vacation :addresses "other@example.com" "away";
