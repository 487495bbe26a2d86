/*
 * roost's per-mailbox cache file ("roost.index.cache"): opaque byte strings
 * (ENVELOPE, BODYSTRUCTURE, header fields, chosen by the IMAP layer) keyed by
 * message UID and a 16-bit field id. Records are appended and chained per
 * message from the index record's cache_off. Runs in the mail processes; the
 * file is untrusted: every record is bounds- and checksum-verified on read,
 * and a bad chain simply reads as "not cached".
 */
#ifndef ROOST_INDEX_CACHE_H
#define ROOST_INDEX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mailbox-error.h"

#define INDEX_CACHE_FILE_NAME "roost.index.cache"
#define INDEX_CACHE_MAGIC     "ROOSTCA1"
#define INDEX_CACHE_VERSION   1
/* Largest value stored for one field, and largest cache file. */
#define INDEX_CACHE_VALUE_MAX (8U * 1024 * 1024)
#define INDEX_CACHE_FILE_MAX  (2ULL * 1024 * 1024 * 1024)
/* Longest chain walked for one lookup. */
#define INDEX_CACHE_CHAIN_MAX 64
/* A cache file is rewritten without dead values once it is at least this
   large and twice the size it had when last written fresh. */
#define INDEX_CACHE_COMPACT_MIN (1024U * 1024)
/* Pending appends are flushed by the caller past this many bytes. */
#define INDEX_CACHE_PENDING_FLUSH (4U * 1024 * 1024)

struct index_cache_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_id;
	uint32_t uidvalidity;
	uint32_t header_crc;
};

struct index_cache_rec {
	uint32_t uid;
	uint16_t field;
	uint16_t reserved;
	uint32_t data_len;
	uint32_t crc; /* crc32 of this header with crc zero, then the data */
	uint64_t prev_off;
	/* data_len bytes follow, then zero padding to 8 bytes */
};

struct index_cache;

/* A message's new chain head after a flush. */
struct index_cache_head {
	uint32_t uid;
	uint64_t offset;
};

/*
 * Opens the cache file at path for reading and appending. Returns 1 with
 * *cache_r set, 0 if it is missing or belongs to another index (file id or
 * UIDVALIDITY differ: *cache_r NULL), -1 on an I/O error.
 */
int index_cache_open(const char *path, uint64_t file_id, uint32_t uidvalidity,
		     struct index_cache **cache_r, struct mailbox_error *err);
/*
 * Creates a new, empty cache file at path (atomically replacing any old
 * one) with a random file id returned in *file_id_r. The caller holds the
 * mailbox's sync lock and must then clear every record's cache_off.
 */
bool index_cache_create(const char *path, uint32_t uidvalidity, uint64_t *file_id_r,
			struct mailbox_error *err);
/* Closes; pending appends are dropped. NULL accepted. */
void index_cache_close(struct index_cache **cache);
uint64_t index_cache_file_id(const struct index_cache *cache);

/*
 * Finds the newest value of field for uid, walking the chain from head.
 * The pointer is valid until the next call on this cache. False when not
 * cached, or when the chain is broken (bad offset, checksum, UID).
 */
bool index_cache_lookup(struct index_cache *cache, uint64_t head, uint32_t uid, uint16_t field,
			const uint8_t **data_r, size_t *len_r);

/*
 * Queues a value for uid/field; head is the message's current chain head
 * on disk (0 if none). Values of the same message queued earlier are
 * chained automatically. False if the value is too large.
 */
bool index_cache_add(struct index_cache *cache, uint32_t uid, uint16_t field, uint64_t head,
		     const void *data, size_t len);
/* Bytes queued and not yet flushed. */
size_t index_cache_pending_size(const struct index_cache *cache);
/* Forgets queued values (e.g. after the cache file was replaced). */
void index_cache_drop_pending(struct index_cache *cache);

/*
 * Appends the queued values to the file. On success *heads_r (caller
 * frees) lists each message's new chain head, to be stored in its index
 * record. The caller holds the mailbox's sync lock so appends from
 * different processes never interleave.
 */
bool index_cache_flush(struct index_cache *cache, struct index_cache_head **heads_r,
		       size_t *count_r, struct mailbox_error *err);

/* Current size of the file (for compaction decisions). */
uint64_t index_cache_file_size(struct index_cache *cache);

/*
 * Walks a chain and calls cb for the newest value of each distinct field
 * (for compaction). Returns false if the chain is broken (values already
 * reported stay reported).
 */
bool index_cache_foreach(struct index_cache *cache, uint64_t head, uint32_t uid,
			 void (*cb)(void *ctx, uint16_t field, const uint8_t *data, size_t len),
			 void *ctx);

#endif
