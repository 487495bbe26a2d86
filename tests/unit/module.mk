# tests/unit/: sources of programs that unit tests link besides the libraries.
test-policy_EXTRA := policy/registry.c policy/penalty.c policy/counters.c
test-sasl_EXTRA := auth/sasl-server.c auth/sasl-plain.c auth/sasl-login.c auth/sasl-scram.c
test-auth-token_EXTRA := auth/token.c
test-imap-fetch_EXTRA := imap/fetch-parse.c imap/fetch-body.c imap/flags-parse.c
