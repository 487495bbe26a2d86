/*
 * Error reporting for the mail store: a code the protocol layers map to
 * answers (NO [OVERQUOTA], -ERR [IN-USE], EX_TEMPFAIL) plus a sentence for the
 * log. Used by roost-imap, roost-pop3 and roost-lda; holds no state.
 */
#ifndef ROOST_MAILBOX_ERROR_H
#define ROOST_MAILBOX_ERROR_H

#include <stdbool.h>

#include "compat.h"

enum mailbox_error_code {
	MAILBOX_ERROR_NONE = 0,
	/* Unexpected failure (I/O error, corrupt data we could not repair):
	   retry later. The text names the file and the errno. */
	MAILBOX_ERROR_TEMP,
	/* A lock was not obtained within the configured timeout. */
	MAILBOX_ERROR_LOCK_TIMEOUT,
	/* The mail root lies under a registered mountpoint that is not
	   mounted: nothing was created, retry later. */
	MAILBOX_ERROR_NOT_MOUNTED,
	/* Saving would exceed the user's quota. */
	MAILBOX_ERROR_OVER_QUOTA,
	/* The mailbox does not exist. */
	MAILBOX_ERROR_NOT_FOUND,
	/* The mailbox (or the rename target) already exists. */
	MAILBOX_ERROR_EXISTS,
	/* The mailbox name is not acceptable (syntax, length, escapes). */
	MAILBOX_ERROR_INVALID_NAME,
	/* The request is not allowed (deleting INBOX, renaming into itself). */
	MAILBOX_ERROR_NOT_ALLOWED,
	/* The message was expunged by another process. */
	MAILBOX_ERROR_EXPUNGED,
	/* A hard limit was hit (too many keywords, message too large). */
	MAILBOX_ERROR_LIMIT,
	/* Bad argument or configuration from the caller (mail_location,
	   quota_rule syntax). */
	MAILBOX_ERROR_PARAMS,
	/* Permission denied by the file system. */
	MAILBOX_ERROR_PERM,
	/* A file (mountpoint list, ...) is not there; not an error for most
	   callers. */
	MAILBOX_ERROR_NO_FILE,
};

/* The longest error sentence kept; longer ones are cut. */
#define MAILBOX_ERROR_TEXT_MAX 512

struct mailbox_error {
	enum mailbox_error_code code;
	char text[MAILBOX_ERROR_TEXT_MAX];
};

/* Sets code and text; err may be NULL (the error is then dropped). Always
   returns false so callers can write `return mailbox_error_set(...)`. */
bool mailbox_error_set(struct mailbox_error *err, enum mailbox_error_code code, const char *fmt,
		       ...) ATTR_PRINTF(3, 4);
/* Like mailbox_error_set with code TEMP (or PERM for EACCES/EPERM, LIMIT
   for ENOSPC/EDQUOT is NOT done: disk full stays TEMP) and ": <strerror>"
   appended for errnum. */
bool mailbox_error_errno(struct mailbox_error *err, int errnum, const char *fmt, ...)
	ATTR_PRINTF(3, 4);
void mailbox_error_clear(struct mailbox_error *err);
/* A short English name of the code, for logs and tests. */
const char *mailbox_error_code_name(enum mailbox_error_code code);
/* Whether the condition may go away by itself (retry / EX_TEMPFAIL). */
bool mailbox_error_is_temporary(enum mailbox_error_code code);

#endif
