# login/: roost-login, the pre-authentication IMAP and POP3 front end.
LIBEXEC_PROGS += roost-login
roost-login_SRCS := $(sort $(wildcard login/*.c))
