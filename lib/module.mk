# lib/: foundations shared by every process (libroost.a).
LIBS += roost
libroost_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
