# lda/: roost-lda, the local delivery agent (also installed as `deliver`).
LIBEXEC_PROGS += roost-lda
roost-lda_SRCS := $(sort $(wildcard lda/*.c))
LIBEXEC_LINKS += deliver:roost-lda
