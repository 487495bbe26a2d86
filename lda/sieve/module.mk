# lda/sieve/: the Sieve engine (libsieve.a), used by roost-lda and roostadm.
sieve_SRCS := $(sort $(wildcard lda/sieve/*.c))
LIBS += $(if $(sieve_SRCS),sieve)
# Development front end for the differential tests (roostadm will call the
# same sieve_tool_check/sieve_tool_test functions).
BIN_PROGS += roost-sieve-dev
roost-sieve-dev_SRCS := lda/sieve/tool/dev-main.c
