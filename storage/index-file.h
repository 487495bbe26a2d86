/*
 * roost's per-mailbox binary index ("roost.index"): a versioned, checksummed
 * header, fixed-size message records, a names area holding each message's
 * current file name, and a log of recent expunges for QRESYNC. Runs in every
 * mail process. It is a cache: a file that fails any check is reported as
 * corrupt and rebuilt from the Maildir by the caller, never trusted.
 */
#ifndef ROOST_INDEX_FILE_H
#define ROOST_INDEX_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "mailbox-error.h"

#define INDEX_FILE_NAME	    "roost.index"
#define INDEX_MAGIC	    "ROOSTIX1"
#define INDEX_VERSION	    1
#define INDEX_ENDIAN_MARKER 0x01020304U
/* Limits on what is read back. */
#define INDEX_FILE_MAX	   (4ULL * 1024 * 1024 * 1024)
#define INDEX_RECORDS_MAX  20000000U
#define INDEX_EXPUNGES_MAX 100000U

/* internal_date / save_date not known yet (looked up lazily). */
#define INDEX_DATE_UNKNOWN INT64_MIN

/* mail_record.state bits. */
#define INDEX_REC_IN_NEW 0x0001 /* the file is in new/, not cur/ */

/*
 * One message. Stored in the file exactly like this (host byte order; the
 * header's endian marker guards against a file from another machine).
 */
struct mail_record {
	uint32_t uid;
	uint32_t flags;	   /* MAIL_* (MAIL_RECENT only in a session's memory) */
	uint32_t keywords; /* bit i = keyword i of the mailbox */
	uint32_t name_off; /* offset of the file name in the names area */
	uint16_t name_len;
	uint16_t state; /* INDEX_REC_* */
	uint32_t reserved;
	uint64_t psize;	       /* bytes in the file */
	uint64_t vsize;	       /* bytes with CRLF line ends (RFC822.SIZE) */
	uint64_t modseq;       /* CONDSTORE modification sequence */
	int64_t internal_date; /* file mtime, seconds; INDEX_DATE_UNKNOWN */
	int64_t save_date;     /* when roost first saw it; INDEX_DATE_UNKNOWN */
	uint64_t cache_off;    /* newest record in the cache file, 0 = none */
};

struct index_expunge {
	uint32_t uid;
	uint32_t reserved;
	uint64_t modseq;
};

struct index_header {
	char magic[8];
	uint32_t version;
	uint32_t endian;
	uint32_t header_size;
	uint32_t record_size;
	uint32_t uidvalidity;
	uint32_t next_uid;
	uint32_t messages_count;
	uint32_t first_recent_uid;
	uint64_t highest_modseq;
	uint64_t names_size;
	uint32_t expunge_count;
	uint32_t flags;
	/* Expunges with modseq above this are all in the log; older ones
	   were dropped (0: the log is complete since the mailbox began). */
	uint64_t expunge_log_min_modseq;
	/* Directory state when they were last read (ns since the epoch), and
	   when: a mtime within a second of its check time is not trusted. */
	int64_t cur_mtime_ns;
	int64_t new_mtime_ns;
	int64_t cur_check_ns;
	int64_t new_check_ns;
	/* The dovecot-uidlist file this index matches. */
	uint64_t uidlist_ino;
	uint64_t uidlist_dev;
	uint64_t uidlist_size;
	int64_t uidlist_mtime_ns;
	/* Quota usage of the messages in this index. */
	uint64_t total_psize;
	uint64_t total_vsize;
	uint64_t cache_file_id;
	uint64_t cache_compact_size;
	int64_t tmp_scan_time;
	uint64_t generation;
	uint32_t keywords_count;
	uint32_t reserved32;
	uint64_t reserved[6];
	uint32_t body_crc;
	uint32_t header_crc; /* crc32 of the header with this field zero */
};

/* A loaded (or being built) index: what one sync saw. */
struct index_view {
	struct index_header hdr;
	struct mail_record *recs;
	size_t count;
	size_t alloc;
	struct buf names;
	struct index_expunge *expunges;
	size_t expunge_count;
	size_t expunge_alloc;
};

void index_view_init(struct index_view *view);
void index_view_deinit(struct index_view *view);
/* Makes dst a deep copy of src (dst is reinitialised). */
void index_view_copy(struct index_view *dst, const struct index_view *src);
/* Moves src into dst (dst's old contents freed, src left empty). */
void index_view_move(struct index_view *dst, struct index_view *src);

/* Appends an empty record and returns it (never NULL; the view grows). */
struct mail_record *index_view_append(struct index_view *view);
/* Stores name as rec's file name; false if the names area is full. */
bool index_view_set_name(struct index_view *view, struct mail_record *rec, const char *name,
			 size_t len);
/* Pointer to rec's file name (name_len bytes, not NUL-terminated). */
const char *index_view_name(const struct index_view *view, const struct mail_record *rec);
/* Position of uid (binary search), or -1. */
ssize_t index_view_find(const struct index_view *view, uint32_t uid);
/* Records an expunge in the log, dropping the oldest past the limit. */
void index_view_log_expunge(struct index_view *view, uint32_t uid, uint64_t modseq);

/* Validates a header read from a file of file_size bytes; false with a
   reason in err (code TEMP) when anything is off. */
bool index_header_check(const struct index_header *hdr, uint64_t file_size,
			struct mailbox_error *err);

/*
 * Parses a whole index file image (len bytes) into view. Every length,
 * offset, checksum and ordering is verified; false with the reason in err
 * means "corrupt: rebuild".
 */
bool index_file_parse(struct index_view *view, const void *data, size_t len,
		      struct mailbox_error *err);

/* Identity of the file, to notice it was replaced. */
struct index_file_stat {
	uint64_t ino;
	uint64_t dev;
	uint64_t size;
	int64_t mtime_ns;
};

/*
 * Reads path into view. Returns 1 on success, 0 if missing, -1 if corrupt
 * or unreadable (err says which; MAILBOX_ERROR_TEMP either way).
 */
int index_file_read(struct index_view *view, const char *path, struct index_file_stat *st_r,
		    struct mailbox_error *err);
/* Reads and checks only the header (for quota sums). Same returns. */
int index_file_read_header(const char *path, struct index_header *hdr_r, struct mailbox_error *err);
/* Whether two identities are the same file version. */
bool index_file_stat_equal(const struct index_file_stat *a, const struct index_file_stat *b);
/* stat() identity of path; false if it does not exist. */
bool index_file_stat(const char *path, struct index_file_stat *st_r);

/*
 * Writes view to path atomically (written into path.tmp, which then swaps
 * names with path; no fsync: the index can be rebuilt). Compacts the names area, fills in counts,
 * sizes, generation and checksums in view->hdr. The caller holds the mailbox's sync lock.
 */
bool index_file_write(struct index_view *view, const char *path, struct index_file_stat *st_r,
		      struct mailbox_error *err);

#endif
