# lda/sieve/: the Sieve engine (libsieve.a), used by roost-lda and roostadm.
libsieve_SRCS := $(sort $(wildcard lda/sieve/*.c))
LIBS += $(if $(libsieve_SRCS),sieve)
# Development front end for the differential tests (roostadm calls the same
# sieve_tool_check/sieve_tool_test functions).
BIN_PROGS += roost-sieve-dev
roost-sieve-dev_SRCS := lda/sieve/tool/dev-main.c
