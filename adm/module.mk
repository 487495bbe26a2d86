# adm/: roostadm, the administration tool.
BIN_PROGS += roostadm
roostadm_SRCS := $(sort $(wildcard adm/*.c))
