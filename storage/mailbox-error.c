/*
 * Error codes and sentences for the mail store (see mailbox-error.h).
 * Runs in every mail process; formats only what the caller hands it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mailbox-error.h"

static void error_vset(struct mailbox_error *err, enum mailbox_error_code code, const char *fmt,
		       va_list ap) ATTR_PRINTF(3, 0);

static void error_vset(struct mailbox_error *err, enum mailbox_error_code code, const char *fmt,
		       va_list ap)
{
	if (err == NULL)
		return;
	err->code = code;
	if (vsnprintf(err->text, sizeof(err->text), fmt, ap) < 0)
		str_copy(err->text, sizeof(err->text), "(unformattable error)");
}

bool mailbox_error_set(struct mailbox_error *err, enum mailbox_error_code code, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, fmt, ap);
	va_end(ap);
	return false;
}

bool mailbox_error_errno(struct mailbox_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	enum mailbox_error_code code;

	if (err == NULL)
		return false;
	code = errnum == EACCES || errnum == EPERM ? MAILBOX_ERROR_PERM : MAILBOX_ERROR_TEMP;
	va_start(ap, fmt);
	error_vset(err, code, fmt, ap);
	va_end(ap);
	str_append(err->text, sizeof(err->text), ": ");
	str_append(err->text, sizeof(err->text), strerror(errnum));
	return false;
}

void mailbox_error_clear(struct mailbox_error *err)
{
	if (err == NULL)
		return;
	err->code = MAILBOX_ERROR_NONE;
	err->text[0] = '\0';
}

const char *mailbox_error_code_name(enum mailbox_error_code code)
{
	switch (code) {
	case MAILBOX_ERROR_NONE:
		return "none";
	case MAILBOX_ERROR_TEMP:
		return "temporary failure";
	case MAILBOX_ERROR_LOCK_TIMEOUT:
		return "lock timeout";
	case MAILBOX_ERROR_NOT_MOUNTED:
		return "not mounted";
	case MAILBOX_ERROR_OVER_QUOTA:
		return "over quota";
	case MAILBOX_ERROR_NOT_FOUND:
		return "not found";
	case MAILBOX_ERROR_EXISTS:
		return "exists";
	case MAILBOX_ERROR_INVALID_NAME:
		return "invalid name";
	case MAILBOX_ERROR_NOT_ALLOWED:
		return "not allowed";
	case MAILBOX_ERROR_EXPUNGED:
		return "expunged";
	case MAILBOX_ERROR_LIMIT:
		return "limit exceeded";
	case MAILBOX_ERROR_PARAMS:
		return "invalid parameters";
	case MAILBOX_ERROR_PERM:
		return "permission denied";
	case MAILBOX_ERROR_NO_FILE:
		return "no such file";
	}
	return "unknown";
}

bool mailbox_error_is_temporary(enum mailbox_error_code code)
{
	return code == MAILBOX_ERROR_TEMP || code == MAILBOX_ERROR_LOCK_TIMEOUT ||
	       code == MAILBOX_ERROR_NOT_MOUNTED;
}
