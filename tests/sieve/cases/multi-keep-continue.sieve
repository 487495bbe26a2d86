# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# before: before-keep.sieve
require "imap4flags";
addflag "x";
redirect "r@example.net";
keep;
