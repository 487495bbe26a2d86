/*
 * roost-lda's duplicate database, in the user's home: what Sieve must
 * remember between deliveries (vacation replies sent, redirects done,
 * ids of the duplicate test). Runs in the sandboxed delivery as the user;
 * the file is the user's own and is read defensively (a damaged file is
 * treated as empty, never trusted for sizes).
 */
#ifndef ROOST_LDA_DUPDB_H
#define ROOST_LDA_DUPDB_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The file in the user's home (Dovecot's is .dovecot.lda-dupes, another format). */
#define LDA_DUPDB_FILE ".roost.lda-dupes"
/* Most entries kept; the ones closest to expiry go first. */
#define LDA_DUPDB_MAX_RECORDS 10000
/* How long a delivery waits for another one holding the file's lock. */
#define LDA_DUPDB_LOCK_TIMEOUT_SECS 10

struct lda_dupdb;

/* A database at path; nothing is read until the first check. */
struct lda_dupdb *lda_dupdb_open(const char *path);
/* Frees db without writing what lda_dupdb_flush() did not; *db becomes NULL. */
void lda_dupdb_free(struct lda_dupdb **db);

/*
 * Whether id (any bytes) of kind was remembered and has not expired at
 * now: 1 yes, 0 no, -1 the file could not be read (logged once).
 * Marks not yet flushed count.
 */
int lda_dupdb_check(struct lda_dupdb *db, unsigned int kind, const void *id, size_t id_len,
		    time_t now);
/* Remembers id until expires (a later mark of the same id replaces it). */
void lda_dupdb_mark(struct lda_dupdb *db, unsigned int kind, const void *id, size_t id_len,
		    time_t expires);
/*
 * Writes the pending marks under the file's lock, dropping expired
 * entries. Returns false with *error_r (static or strerror) when the file
 * cannot be locked or written; the marks stay pending.
 */
bool lda_dupdb_flush(struct lda_dupdb *db, time_t now, const char **error_r);

#endif
