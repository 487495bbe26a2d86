# message: list.eml
# args: -f eve@example.net -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
