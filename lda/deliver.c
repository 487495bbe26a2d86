/*
 * Storing the message: into a named mailbox (keep, later Sieve's fileinto),
 * with dovecot-lda's fallback to INBOX, and the per-delivery log line in
 * deliver_log_format. Runs inside roost-lda's sandbox as the mail user; the
 * crash safety (tmp/, fsync, rename, then the UID) is the store's, so a
 * message counts as delivered only once mailbox_save_finish() said so.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lda.h"
#include "log.h"
#include "../storage/message-util.h"

/* The longest log line body we build (log.h cuts at LOG_LINE_MAX anyway). */
#define LDA_LOG_LINE_MAX 4096

static void append_value(struct buf *out, const char *value)
{
	(void)buf_append_str(out, value != NULL ? value : "");
}

/* Stored sizes: the store turns CRLF into LF, as Dovecot's LDA does. */
static void stored_sizes(const struct lda_delivery *d, uint64_t *psize_r, uint64_t *vsize_r)
{
	size_t lf, bare;

	message_count_lf(d->msg->data, d->msg->size, &lf, &bare);
	*psize_r = d->msg->size - (lf - bare);
	*vsize_r = d->msg->size + bare;
}

static void append_var(struct buf *out, const char *name, size_t name_len,
		       const struct lda_delivery *d, const char *status)
{
	static const struct {
		char c;
		const char *name;
	} vars[] = {
		{'$', "$"},	{'m', "msgid"},		{'s', "subject"},
		{'f', "from"},	{'e', "from_envelope"}, {'p', "size"},
		{'w', "vsize"},
	};
	char c = 0;

	if (name_len == 1) {
		c = name[0];
	} else {
		for (size_t i = 0; i < N_ELEMENTS(vars); i++) {
			if (strlen(vars[i].name) == name_len &&
			    memcmp(vars[i].name, name, name_len) == 0)
				c = vars[i].c;
		}
		if (name_len == 11 && memcmp(name, "to_envelope", 11) == 0) {
			append_value(out, d->rcpt_to);
			return;
		}
	}
	switch (c) {
	case '$':
		append_value(out, status);
		break;
	case 'm':
		append_value(out, d->msg->message_id != NULL ? d->msg->message_id : "unspecified");
		break;
	case 's':
		append_value(out, d->msg->subject);
		break;
	case 'f':
		append_value(out, d->msg->from);
		break;
	case 'e':
		append_value(out, d->mail_from);
		break;
	case 'p':
	case 'w': {
		uint64_t psize, vsize;

		stored_sizes(d, &psize, &vsize);
		(void)buf_printf(out, "%llu", (unsigned long long)(c == 'p' ? psize : vsize));
		break;
	}
	case '%':
		(void)buf_append_c(out, '%');
		break;
	default:
		break;
	}
}

void lda_log_format(struct buf *out, const char *format, const struct lda_delivery *d,
		    const char *status)
{
	for (const char *p = format; *p != '\0'; p++) {
		const char *end;

		if (*p != '%') {
			(void)buf_append_c(out, (uint8_t)*p);
			continue;
		}
		if (p[1] == '\0')
			break;
		if (p[1] == '{' && (end = strchr(p + 2, '}')) != NULL) {
			append_var(out, p + 2, (size_t)(end - p - 2), d, status);
			p = end;
		} else {
			append_var(out, p + 1, 1, d, status);
			p++;
		}
	}
}

void lda_deliver_log(const struct lda_delivery *d, bool failed, const char *fmt, ...)
{
	struct buf status = BUF_INIT(LDA_LOG_LINE_MAX), line = BUF_INIT(LDA_LOG_LINE_MAX);
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(&status, fmt, ap);
	va_end(ap);
	lda_log_format(&line, d->set->deliver_log_format, d, buf_cstr(&status));
	if (failed)
		log_error("%s", buf_cstr(&line));
	else
		log_info("%s", buf_cstr(&line));
	buf_free(&status);
	buf_free(&line);
}

/* Dovecot's wording for the errors an administrator sees most. */
static const char *error_text(const struct mailbox_error *err, const char *mailbox)
{
	static char text[MAILBOX_ERROR_TEXT_MAX + 128];

	switch (err->code) {
	case MAILBOX_ERROR_NOT_FOUND:
		(void)str_format(text, sizeof(text), "Mailbox doesn't exist: %s", mailbox);
		return text;
	case MAILBOX_ERROR_INVALID_NAME:
		(void)str_format(text, sizeof(text), "Invalid mailbox name: %s", err->text);
		return text;
	default:
		return err->text;
	}
}

/* Whether an error is the mailbox's fault rather than the system's. */
static bool error_is_expected(enum mailbox_error_code code)
{
	return code == MAILBOX_ERROR_NOT_FOUND || code == MAILBOX_ERROR_INVALID_NAME ||
	       code == MAILBOX_ERROR_OVER_QUOTA || code == MAILBOX_ERROR_LIMIT;
}

static bool open_mailbox(struct lda_delivery *d, const char *mailbox, bool create,
			 struct mailbox **box_r, struct mailbox_error *err)
{
	struct mailbox_error cerr;

	if (mailbox_open(d->storage, mailbox, MAILBOX_OPEN_SAVE_ONLY, box_r, err))
		return true;
	if (err->code != MAILBOX_ERROR_NOT_FOUND || strcmp(mailbox, "INBOX") == 0 ||
	    !(create || d->set->lda_mailbox_autocreate))
		return false;
	if (!mailbox_create(d->storage, mailbox, &cerr)) {
		if (cerr.code != MAILBOX_ERROR_EXISTS) {
			*err = cerr;
			return false;
		}
	} else if (d->set->lda_mailbox_autosubscribe &&
		   !mailbox_subscribe(d->storage, mailbox, true, &cerr)) {
		log_warning("Subscribing to %s failed: %s", mailbox, cerr.text);
	}
	return mailbox_open(d->storage, mailbox, MAILBOX_OPEN_SAVE_ONLY, box_r, err);
}

bool lda_deliver_store(struct lda_delivery *d, const char *mailbox, uint32_t flags,
		       const char *const *keywords, bool create, struct mailbox_error *err)
{
	struct mailbox_save_params params = {
		.flags = flags,
		.internal_date = INDEX_DATE_UNKNOWN,
		.crlf_to_lf = true,
		.expected_size = d->msg->size,
	};
	struct mailbox *box;
	struct mailbox_save *save = NULL;
	uint32_t uid;

	if (!open_mailbox(d, mailbox, create, &box, err)) {
		lda_deliver_log(d, !error_is_expected(err->code),
				"save failed to open mailbox %s: %s", mailbox,
				error_text(err, mailbox));
		return false;
	}
	for (size_t i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		unsigned int idx;
		struct mailbox_error kerr;

		if (mailbox_keyword_add(box, keywords[i], &idx, &kerr))
			params.keywords |= 1U << idx;
		else
			log_warning("%s: keyword %s not set: %s", mailbox, keywords[i], kerr.text);
	}
	if (!mailbox_save_begin(box, &params, &save, err) ||
	    !mailbox_save_write(save, d->msg->data, d->msg->size, err) ||
	    !mailbox_save_finish(&save, &uid, err)) {
		if (save != NULL)
			mailbox_save_abort(&save);
		mailbox_close(&box);
		lda_deliver_log(d, !error_is_expected(err->code), "save failed to %s: %s", mailbox,
				error_text(err, mailbox));
		return false;
	}
	mailbox_close(&box);
	d->saved_count++;
	lda_deliver_log(d, false, "saved mail to %s", mailbox);
	return true;
}

bool lda_deliver_keep(struct lda_delivery *d, uint32_t flags, const char *const *keywords)
{
	struct mailbox_error err;
	bool ok = lda_deliver_store(d, d->default_mailbox, flags, keywords, false, &err);

	if (!ok && strcmp(d->default_mailbox, "INBOX") != 0)
		ok = lda_deliver_store(d, "INBOX", flags, keywords, false, &err);
	if (ok) {
		d->status = LDA_STATUS_OK;
		d->reason[0] = '\0';
		return true;
	}
	if (err.code == MAILBOX_ERROR_OVER_QUOTA) {
		const char *msg = settings_plugin_get(d->set, "quota_exceeded_message");

		(void)str_copy(d->reason, sizeof(d->reason),
			       msg != NULL && msg[0] != '\0' ? msg : err.text);
		d->status = d->set->quota_full_tempfail ? LDA_STATUS_TEMPFAIL : LDA_STATUS_REJECTED;
		d->dsn = "5.2.2"; /* mailbox full */
	} else {
		(void)str_copy(d->reason, sizeof(d->reason), err.text);
		d->status =
			err.code == MAILBOX_ERROR_LIMIT ? LDA_STATUS_REJECTED : LDA_STATUS_TEMPFAIL;
		d->dsn = "5.2.3"; /* message length exceeds administrative limit */
	}
	return false;
}
