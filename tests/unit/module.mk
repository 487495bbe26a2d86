# tests/unit/: sources of programs that unit tests link besides the libraries.
test-policy_EXTRA := policy/registry.c policy/penalty.c policy/counters.c
test-sasl_EXTRA := auth/sasl-server.c auth/sasl-plain.c auth/sasl-login.c auth/sasl-scram.c
test-auth-token_EXTRA := auth/token.c
test-imap-list_EXTRA := imap/compress-deflate.c
IMAP_SEARCH_SRCS := imap/search-fold.c imap/search-headers.c imap/search-mail.c \
	imap/search-parse.c imap/search-match.c imap/search-body.c imap/sort-subject.c \
	imap/sort.c imap/thread.c
test-imap-search_EXTRA := $(IMAP_SEARCH_SRCS)
test-imap-sort_EXTRA := $(IMAP_SEARCH_SRCS)
# The whole of roost-imap but its main(): imap_seqset_resolve_client and the
# mailbox search source need the session code around them.
test-imap-searchres_EXTRA := $(filter-out imap/main.c,$(sort $(wildcard imap/*.c)))
# Every process's seccomp profile, compared with libseccomp's program.
test-sandbox-bpf_EXTRA := imap/sandbox.c pop3/sandbox.c login/sandbox.c auth/sandbox.c \
	policy/sandbox.c lda/sandbox.c adm/sandbox.c
test-imap-fetch_EXTRA := imap/fetch-parse.c imap/fetch-body.c imap/flags-parse.c
