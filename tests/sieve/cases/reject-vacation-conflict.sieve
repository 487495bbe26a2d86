# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require ["reject","vacation"];
vacation "away";
reject "x";
