# message: auto.eml
# args: -f postmaster@mx.example.com -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
