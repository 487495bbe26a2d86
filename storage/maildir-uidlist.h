/*
 * Dovecot's dovecot-uidlist file (version 3, and version 1 for reading):
 * "3 V<uidvalidity> N<nextuid> G<guid>" then "<uid> [<key><value>...]
 * :<filename>" lines mapping UIDs to Maildir file bases. Runs in every mail
 * process. The file is untrusted: lines that break the format or the UID
 * order are skipped and logged, limits below cap what is read.
 */
#ifndef ROOST_MAILDIR_UIDLIST_H
#define ROOST_MAILDIR_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "mailbox-error.h"

#define MAILDIR_UIDLIST_NAME "dovecot-uidlist"
/* Longest line and largest file read; more records than this is an error. */
#define MAILDIR_UIDLIST_LINE_MAX    8192
#define MAILDIR_UIDLIST_FILE_MAX    (1024ULL * 1024 * 1024)
#define MAILDIR_UIDLIST_RECORDS_MAX 20000000U

#define MAILDIR_UIDLIST_REC_PSIZE 0x01 /* S<size> field present */
#define MAILDIR_UIDLIST_REC_VSIZE 0x02 /* W<vsize> field present */

struct maildir_uidlist_rec {
	uint32_t uid; /* 0 = removed (expunged), skipped on write */
	uint32_t name_off;
	uint32_t ext_off; /* other extension fields, kept verbatim */
	uint16_t name_len;
	uint16_t ext_len;
	uint32_t flags;	   /* MAILDIR_UIDLIST_REC_* */
	uint32_t hash;	   /* of the base name, for lookups */
	uint16_t base_len; /* bytes of the name before ':' */
	uint16_t reserved;
	uint64_t psize;
	uint64_t vsize;
};

/* Identity of the file as last read or written, to notice changes. */
struct maildir_uidlist_stat {
	uint64_t ino;
	uint64_t dev;
	uint64_t size;
	int64_t mtime_ns;
};

struct maildir_uidlist {
	uint32_t version; /* as read; always 3 when written */
	uint32_t uidvalidity;
	uint32_t next_uid;
	char guid[33];	      /* 32 hex digits, or "" */
	struct buf hdr_extra; /* unknown header fields, kept verbatim */
	struct maildir_uidlist_rec *recs;
	size_t count;
	size_t alloc;
	size_t removed;	    /* records with uid 0 */
	struct buf strings; /* names and extension texts */
	uint32_t *hash;	    /* base -> index + 1, open addressing */
	size_t hash_size;
	bool have_header;
	uint64_t parsed_size;  /* bytes of the file consumed (ends at a '\n') */
	struct buf first_line; /* the header line as read, to verify a tail read */
	struct buf last_line;  /* the last complete line as read, likewise */
	uint64_t last_line_off;
	unsigned int bad_lines; /* lines skipped while parsing */
	/* The last maildir_uidlist_read only added lines at the end: every
	   record present before kept its UID. */
	bool last_read_appended;
};

void maildir_uidlist_init(struct maildir_uidlist *ul);
void maildir_uidlist_deinit(struct maildir_uidlist *ul);
/* Empties the list (keeps nothing, not even the header). */
void maildir_uidlist_reset(struct maildir_uidlist *ul);

/*
 * Parses complete lines of data (len bytes, a whole file or the part after
 * parsed_size); a trailing line without '\n' is left unparsed (a writer may
 * be mid-append, or crashed). The first line is the header unless
 * have_header is already set. Returns false only for an unreadable header
 * (unknown version, missing or zero UIDVALIDITY) or a limit; bad record
 * lines are skipped, counted in bad_lines and logged once with path.
 */
bool maildir_uidlist_parse(struct maildir_uidlist *ul, const char *path, const char *data,
			   size_t len, struct mailbox_error *err);

/* Record index for the message whose file name (or base) is name, or -1. */
ssize_t maildir_uidlist_lookup(const struct maildir_uidlist *ul, const char *name, size_t len);
/* Record index for uid (binary search; records are in UID order), or -1. */
ssize_t maildir_uidlist_lookup_uid(const struct maildir_uidlist *ul, uint32_t uid);
/* The stored file name of a record (not NUL-terminated; see name_len). */
const char *maildir_uidlist_rec_name(const struct maildir_uidlist *ul,
				     const struct maildir_uidlist_rec *rec);

/*
 * Appends a record for a new message with base name (the part before ':'
 * is stored) and the next UID; returns the UID, or 0 when UIDs or the
 * record limit are exhausted.
 */
uint32_t maildir_uidlist_add(struct maildir_uidlist *ul, const char *name, size_t len);
/* Appends a record with a given uid (above every present one) for name;
   false when out of order or past the limits. Raises next_uid past it. */
bool maildir_uidlist_add_uid(struct maildir_uidlist *ul, uint32_t uid, const char *name,
			     size_t len);
/* Marks a record removed (expunged); it is left out of the next write. */
void maildir_uidlist_remove(struct maildir_uidlist *ul, size_t idx);
/* Whether so many records are removed (a quarter, as Dovecot compacts its
   uidlist) that the file is worth rewriting. Until then the lines of
   expunged messages stay: they cost a little reading, while a rewrite
   costs a new file and an fsync. */
bool maildir_uidlist_want_compact(const struct maildir_uidlist *ul);

/* Appends the header line / one record line in version 3 syntax. */
bool maildir_uidlist_format_header(const struct maildir_uidlist *ul, struct buf *out);
bool maildir_uidlist_format_rec(const struct maildir_uidlist *ul,
				const struct maildir_uidlist_rec *rec, struct buf *out);

/* The hash used for file base names (and by the mailbox's name tables). */
uint64_t maildir_hash_bytes(const void *data, size_t len);

/* Fills in a fresh header: uidvalidity, next UID 1, a random GUID. */
void maildir_uidlist_new_header(struct maildir_uidlist *ul, uint32_t uidvalidity);

/*
 * Reads the file at path into ul. If ul already holds the contents of the
 * same file (same inode, st given) up to ul->parsed_size and the file only
 * grew, only the new tail is parsed. Returns 1 on success (st_r filled),
 * 0 if the file does not exist (ul reset), -1 on error. An unreadable
 * header gives -1 with MAILBOX_ERROR_TEMP; callers treat that as a broken
 * uidlist.
 */
int maildir_uidlist_read(struct maildir_uidlist *ul, const char *path,
			 const struct maildir_uidlist_stat *old, struct maildir_uidlist_stat *st_r,
			 struct mailbox_error *err);

/*
 * For appending without reading everything: reads only the header and the
 * last complete line of path, leaving ul with no records, next_uid past
 * the last UID and parsed_size at the end of the last complete line.
 * Returns 1, 0 if missing, -1 if the ends cannot be parsed (read the whole
 * file instead).
 */
int maildir_uidlist_read_ends(struct maildir_uidlist *ul, const char *path,
			      struct maildir_uidlist_stat *st_r, struct mailbox_error *err);

/*
 * Writes the whole list to path atomically (temporary file, fsync when
 * do_fsync, rename). Removed records are dropped and the list compacted.
 * The caller holds the mailbox's sync lock.
 */
bool maildir_uidlist_write(struct maildir_uidlist *ul, const char *path, bool do_fsync,
			   struct maildir_uidlist_stat *st_r, struct mailbox_error *err);

/*
 * Appends records [first, count) to the file at path, which must be the
 * file ul was read from (st) and hold the lock. A partial last line left by
 * a crashed writer (bytes past parsed_size) is cut off first. fdatasync()s
 * when do_fsync.
 */
bool maildir_uidlist_append(struct maildir_uidlist *ul, const char *path, size_t first,
			    bool do_fsync, struct maildir_uidlist_stat *st_r,
			    struct mailbox_error *err);

#endif
