# lda/sieve/: the Sieve engine (libsieve.a), used by roost-lda and roostadm.
libsieve_SRCS := $(sort $(wildcard lda/sieve/*.c))
LIBS += $(if $(libsieve_SRCS),sieve)
