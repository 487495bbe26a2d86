# message: spam.eml
# args: -f promo@spammer.example -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
