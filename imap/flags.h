/*
 * Flag lists of STORE and APPEND (RFC 3501 flag-list and store-att-flags)
 * in roost-imap: system flags as bits, keywords as names checked against
 * the flag-keyword grammar. Parses an authenticated client's arguments
 * without trusting them and depends only on lib/ (it is fuzzed alone).
 */
#ifndef ROOST_IMAP_FLAGS_H
#define ROOST_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap-parser.h"

/* Most keyword names in one command (a mailbox holds at most 26). */
#define IMAP_FLAGS_MAX_KEYWORDS 64
/* Longest keyword name accepted. */
#define IMAP_FLAGS_MAX_KEYWORD_LEN 255

struct imap_flag_list {
	uint32_t flags; /* MAIL_SEEN ... (storage/mailbox-flags.h values) */
	const char *keywords[IMAP_FLAGS_MAX_KEYWORDS];
	size_t keyword_count;
};

/*
 * Parses flags given as one parenthesized list (list true) or as the atoms
 * args[0..count) (STORE's unparenthesized form). Keyword names point into
 * the arguments; duplicates are dropped. \Recent and unknown \System flags
 * are errors, as are atoms that are not valid flags. False with *error_r
 * (fixed English text for a BAD reply).
 */
bool imap_flags_parse(const struct imap_arg *args, size_t count, struct imap_flag_list *list_r,
		      const char **error_r);

enum imap_store_op {
	IMAP_STORE_REPLACE, /* FLAGS */
	IMAP_STORE_ADD,	    /* +FLAGS */
	IMAP_STORE_REMOVE,  /* -FLAGS */
};

struct imap_store_args {
	bool unchangedsince_set;
	uint64_t unchangedsince;
	enum imap_store_op op;
	bool silent;
	struct imap_flag_list flags;
};

/*
 * Parses STORE's arguments after the sequence set: [(UNCHANGEDSINCE n)]
 * [+|-]FLAGS[.SILENT] flags. False with *error_r for a BAD reply.
 */
bool imap_store_args_parse(const struct imap_arg *args, size_t argc, struct imap_store_args *r,
			   const char **error_r);

#endif
