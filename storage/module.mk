# storage/: message parsing (RFC 5322, MIME), Maildir, index/cache, search
# (libstorage.a), used by roost-imap, roost-pop3 and roost-lda.
libstorage_SRCS := $(sort $(wildcard storage/*.c))
LIBS += $(if $(libstorage_SRCS),storage)
