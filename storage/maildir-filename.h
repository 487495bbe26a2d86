/*
 * Maildir file names: "BASE[,S=size][,W=vsize][:2,FLAGS]" with Dovecot's size
 * fields and keyword letters. Runs in every mail process; every name comes
 * from readdir() or the uidlist and is untrusted: the parser checks
 * everything and never trusts a size beyond the limit below.
 */
#ifndef ROOST_MAILDIR_FILENAME_H
#define ROOST_MAILDIR_FILENAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The longest file name accepted (NAME_MAX). */
#define MAILDIR_FILENAME_MAX 255
/* Sizes in names above this are treated as absent (a lie or garbage). */
#define MAILDIR_SIZE_MAX (1ULL << 40)

struct maildir_filename {
	size_t base_len; /* bytes before the first ':' (the whole name if none) */
	bool has_psize;
	bool has_vsize;
	uint64_t psize; /* S= physical size */
	uint64_t vsize; /* W= size with CRLF line ends */
	bool has_info;	/* ":2," was present */
	uint32_t flags; /* MAIL_* from the info letters */
	uint32_t keywords;
};

/*
 * Whether name (len bytes, not necessarily NUL-terminated) may be a message
 * file: 1..MAILDIR_FILENAME_MAX bytes, not starting with '.', no '/', NUL or
 * control character, a non-empty base.
 */
bool maildir_filename_valid(const char *name, size_t len);

/* Parses a valid name (false if maildir_filename_valid says no). Unknown
   fields and info letters are ignored here and kept by _build. */
bool maildir_filename_parse(const char *name, size_t len, struct maildir_filename *fn_r);

/*
 * Appends to out the name with the given flags and keywords: the base, then
 * ":2," and the letters in ASCII order, keeping info letters that are not
 * flags or keywords (e.g. 'P'). False if out is full.
 */
bool maildir_filename_build(const char *name, size_t len, uint32_t flags, uint32_t keywords,
			    struct buf *out);

/* Appends the info letters for flags and keywords in ASCII order. */
bool maildir_flags_to_letters(uint32_t flags, uint32_t keywords, struct buf *out);

/*
 * Appends a new unique base name "SECS.MUSECSPpidQcounter.HOST" (host with
 * '/' and ':' written as \057 and \072 as the Maildir convention says, cut
 * to 64 bytes). Uniqueness comes from time, pid and a process counter.
 */
bool maildir_filename_generate(const char *host, struct buf *out);

/* Compares the bases (up to ':') of two names, like strcmp; equal means the
   same message. */
int maildir_filename_base_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Order in which new messages get UIDs: by the leading seconds, then by the
   rest of the name. */
int maildir_filename_sort_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
