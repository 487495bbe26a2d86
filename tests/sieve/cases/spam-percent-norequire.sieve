# message: spam.eml
# args: -f alice@example.com -a bob@example.org
# ext: +spamtest +spamtestplus
# config: sieve_spamtest_status_type = score
# config: sieve_spamtest_status_header = X-Spam-Score
# config: sieve_spamtest_max_value = 10
require ["spamtest"];
if spamtest :percent "1" { keep; }
