# lib/: foundations shared by every process (libroost.a).
LIBS += roost
roost_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
