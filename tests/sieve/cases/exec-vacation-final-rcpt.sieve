# message: vacation.eml
# args: -f carol@example.net -a robert@example.org -r robert@example.org
# execute: yes
require "vacation";
vacation "away";
