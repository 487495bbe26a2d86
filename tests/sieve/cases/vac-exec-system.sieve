# message: vacation.eml
# args: -f MAILER-DAEMON@example.net -a bob@example.org
# execute: yes
require "vacation";
vacation "away";
