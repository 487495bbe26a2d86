# message: basic.eml
# args: -f alice@example.com -a bob@example.org
# config: sieve_max_redirects = 2
redirect "a@example.net";
redirect "b@example.net";
redirect "c@example.net";
