# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# before: before-flags.sieve
require ["imap4flags","fileinto"];
fileinto "C";
