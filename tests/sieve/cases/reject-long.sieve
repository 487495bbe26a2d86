# message: basic.eml
# args: -f alice@example.com -a bob@example.org
require "reject";
reject "too long reason too long reason too long reason too long reason too long reason too long reason too long reason too long reason too long reason too long reason too long reason too long reason ";
