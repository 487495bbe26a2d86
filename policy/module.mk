# policy/: roost-policy, the session registry and limits service.
LIBEXEC_PROGS += roost-policy
roost-policy_SRCS := $(sort $(wildcard policy/*.c))
