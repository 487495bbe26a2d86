# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["variables","fileinto"];
set :lower "a" "HeLLo";
set :upper "b" "HeLLo";
set :lowerfirst "c" "HeLLo";
set :upperfirst "d" "heLLo";
set :upper :lowerfirst "e" "hello";
set :length "f" "héllo";
set :quotewildcard "g" "a*b?c\\d";
fileinto "${a}|${b}|${c}|${d}|${e}|${f}|${g}";
