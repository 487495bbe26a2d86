# message: spam.eml
# args: -f alice@example.com -a bob@example.org
# ext: +spamtest
# config: sieve_spamtest_status_type = score
# config: sieve_spamtest_status_header = X-Spam-Status: [a-zA-Z]+, score=(-?[0-9]+.[0-9]+)
# config: sieve_spamtest_max_header = X-Spam-Status: [a-zA-Z]+, score=-?[0-9]+.[0-9]+ required=([0-9]+.[0-9]+)
require ["spamtest","relational","comparator-i;ascii-numeric","fileinto","variables"];
if spamtest :matches "*" { fileinto "S=${1}"; }
