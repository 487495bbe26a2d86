# message: auto.eml
# args: -f someone@example.net -r bob@example.org
# execute: yes
require "vacation";
vacation "away";
