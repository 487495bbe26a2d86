# storage/: message parsing (RFC 5322, MIME), Maildir, index/cache, search
# (libstorage.a), used by roost-imap, roost-pop3 and roost-lda.
storage_SRCS := $(sort $(wildcard storage/*.c))
LIBS += $(if $(storage_SRCS),storage)
