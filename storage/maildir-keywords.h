/*
 * Dovecot's dovecot-keywords file: "<index> <name>" lines mapping the
 * keyword letters 'a'..'z' of Maildir file names to IMAP keywords. Runs in
 * every mail process. The file is untrusted: bad lines are skipped, names
 * must be valid IMAP atoms, indexes stay within 0..25.
 */
#ifndef ROOST_MAILDIR_KEYWORDS_H
#define ROOST_MAILDIR_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "mailbox-error.h"
#include "mailbox-flags.h"

#define MAILDIR_KEYWORDS_NAME	  "dovecot-keywords"
#define MAILDIR_KEYWORD_NAME_MAX  200
#define MAILDIR_KEYWORDS_FILE_MAX (64 * 1024)

struct maildir_keywords {
	char *names[MAIL_KEYWORDS_MAX]; /* NULL = unused index */
	unsigned int bad_lines;
};

void maildir_keywords_init(struct maildir_keywords *kw);
void maildir_keywords_deinit(struct maildir_keywords *kw);

/* Whether name is an acceptable keyword: an IMAP atom of at most
   MAILDIR_KEYWORD_NAME_MAX bytes, not starting with '\'. */
bool maildir_keyword_name_valid(const char *name);

/* Parses file contents (len bytes) into kw, replacing what it held. Bad
   lines (syntax, index out of range, invalid or duplicate name) are skipped
   and counted. */
void maildir_keywords_parse(struct maildir_keywords *kw, const char *data, size_t len);

/* Reads path into kw. Returns 1 if read, 0 if missing (kw emptied), -1 on
   error. */
int maildir_keywords_read(struct maildir_keywords *kw, const char *path, struct mailbox_error *err);

/* Writes kw atomically (temporary file and rename; fsync when asked). The
   caller holds the mailbox's sync lock. */
bool maildir_keywords_write(const struct maildir_keywords *kw, const char *path, bool do_fsync,
			    struct mailbox_error *err);

/* Index of name (compared case-insensitively, as IMAP does), or -1. */
int maildir_keywords_lookup(const struct maildir_keywords *kw, const char *name);
/* Index of name, adding it at the first free index if new; -1 if all 26
   are taken or the name is invalid. */
int maildir_keywords_add(struct maildir_keywords *kw, const char *name);
/* Name at idx, or NULL. */
const char *maildir_keywords_name(const struct maildir_keywords *kw, unsigned int idx);

#endif
