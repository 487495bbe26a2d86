# adm/: roostadm, the administration tool.
BIN_PROGS += roostadm
# imap/list-pattern.c: the mail commands match masks as IMAP's LIST does.
roostadm_SRCS := $(sort $(wildcard adm/*.c)) imap/list-pattern.c
