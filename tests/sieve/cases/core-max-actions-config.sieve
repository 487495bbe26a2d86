# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# config: sieve_max_actions = 5
require "fileinto";
fileinto "F0";
fileinto "F1";
fileinto "F2";
fileinto "F3";
fileinto "F4";
fileinto "F5";
