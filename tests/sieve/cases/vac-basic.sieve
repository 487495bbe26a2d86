# message: vacation.eml
# args: -f carol@example.net -a bob@example.org
require "vacation";
vacation "I am away";
