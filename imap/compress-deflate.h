/*
 * COMPRESS=DEFLATE (RFC 4978) as a connection filter: raw deflate (RFC
 * 1951, no zlib or gzip framing) in both directions, with zlib. Runs in
 * roost-imap after login; the compressed bytes from the client are
 * untrusted, and what they inflate to is bounded by the connection's input
 * buffer, so a small burst cannot expand into a large allocation.
 */
#ifndef ROOST_IMAP_COMPRESS_DEFLATE_H
#define ROOST_IMAP_COMPRESS_DEFLATE_H

#include "connection.h"

/* Compression level of our direction (zlib's 1-9; Dovecot's default). */
#define COMPRESS_DEFLATE_LEVEL 6

/*
 * A new filter for connection_set_filter(), or NULL with *error_r when
 * zlib could not be set up. Memory: deflate with a 32 KiB window and
 * memLevel 8 (about 256 KiB), inflate with the 32 KiB window RFC 4978
 * peers may use, kept for the whole session.
 */
struct connection_filter *compress_deflate_create(int level, const char **error_r);

#endif
