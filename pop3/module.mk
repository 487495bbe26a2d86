# pop3/: roost-pop3, one authenticated POP3 session per process.
LIBEXEC_PROGS += roost-pop3
roost-pop3_SRCS := $(sort $(wildcard pop3/*.c))
