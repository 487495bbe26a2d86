# master/: roost, the root master process.
SBIN_PROGS += roost
roost_SRCS := $(sort $(wildcard master/*.c))
