# message: spam.eml
# args: -f alice@example.com -a bob@example.org
# ext: +virustest
# config: sieve_virustest_status_type = text
# config: sieve_virustest_status_header = X-Virus-Scan: Found to be (.+)\.
# config: sieve_virustest_text_value1 = clean
# config: sieve_virustest_text_value5 = infected
require ["virustest","fileinto","variables"];
if virustest :matches "*" { fileinto "V=${1}"; }
