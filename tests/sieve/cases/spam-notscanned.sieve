# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# ext: +spamtest
# config: sieve_spamtest_status_type = score
# config: sieve_spamtest_status_header = X-Spam-Score
# config: sieve_spamtest_max_value = 10
require ["spamtest","relational","comparator-i;ascii-numeric","fileinto","variables"];
if spamtest :is "0" { fileinto "NotScanned"; }
