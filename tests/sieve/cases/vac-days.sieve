# message: vacation.eml
# args: -f carol@example.net -a bob@example.org
require "vacation";
vacation :days 3 :subject "Out of office" "Back soon";
