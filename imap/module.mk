# imap/: roost-imap, one authenticated IMAP session per process.
LIBEXEC_PROGS += roost-imap
roost-imap_SRCS := $(sort $(wildcard imap/*.c))
