# message: spam.eml
# args: -f alice@example.com -a bob@example.org
# ext: +spamtest
# config: sieve_spamtest_status_type = text
# config: sieve_spamtest_status_header = X-Spam-Flag
# config: sieve_spamtest_text_value1 = NO
# config: sieve_spamtest_text_value10 = YES
require ["spamtest","relational","comparator-i;ascii-numeric","fileinto","variables"];
if spamtest :matches "*" { fileinto "S=${1}"; }
