# auth/: roost-auth, passdb/userdb, password schemes, SASL, login tokens.
LIBEXEC_PROGS += roost-auth
roost-auth_SRCS := $(sort $(wildcard auth/*.c))
