# lda/sieve/: the Sieve engine (libsieve.a), used by roost-lda and roostadm.
sieve_SRCS := $(sort $(wildcard lda/sieve/*.c))
LIBS += $(if $(sieve_SRCS),sieve)
