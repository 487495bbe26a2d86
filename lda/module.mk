# lda/: roost-lda, the local delivery agent (also installed as `deliver`).
# Everything but main.c goes into liblda.a, so unit tests and fuzz harnesses
# link the same code; programs that do not use it pull nothing from it.
liblda_SRCS := $(filter-out lda/main.c,$(sort $(wildcard lda/*.c)))
LIBS += lda
LIBEXEC_PROGS += roost-lda
roost-lda_SRCS := lda/main.c
LIBEXEC_LINKS += deliver:roost-lda
