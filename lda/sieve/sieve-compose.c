/*
 * Composes redirects, vacation replies and reject bounces for a Sieve
 * result. Runs in roost-lda inside the sandbox; header values from the
 * message and the script are stripped of line breaks and RFC 2047-encoded
 * when needed, so they can never start a new header line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../storage/mail-date.h"
#include "../../storage/message-header.h"
#include "sieve-compose.h"
#include "sieve-private.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_append(struct buf *out, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		(void)buf_append_c(out, (uint8_t)b64chars[v >> 18]);
		(void)buf_append_c(out, (uint8_t)b64chars[(v >> 12) & 63]);
		(void)buf_append_c(out, (uint8_t)b64chars[(v >> 6) & 63]);
		(void)buf_append_c(out, (uint8_t)b64chars[v & 63]);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		(void)buf_append_c(out, (uint8_t)b64chars[v >> 18]);
		(void)buf_append_c(out, (uint8_t)b64chars[(v >> 12) & 63]);
		(void)buf_append_str(out, "==");
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		(void)buf_append_c(out, (uint8_t)b64chars[v >> 18]);
		(void)buf_append_c(out, (uint8_t)b64chars[(v >> 12) & 63]);
		(void)buf_append_c(out, (uint8_t)b64chars[(v >> 6) & 63]);
		(void)buf_append_c(out, '=');
	}
}

bool sieve_compose_header(struct buf *out, const char *name, const char *value)
{
	size_t len = strlen(value), i, col;
	bool ascii = true;

	for (i = 0; i < len; i++) {
		if ((unsigned char)value[i] >= 0x80)
			ascii = false;
	}
	(void)buf_printf(out, "%s: ", name);
	col = strlen(name) + 2;
	if (ascii) {
		for (i = 0; i < len; i++) {
			char c = value[i];

			if (c == '\r' || c == '\n')
				c = ' ';
			if (c == ' ' && col > 72) {
				(void)buf_append_str(out, "\r\n");
				col = 0;
			}
			(void)buf_append_c(out, (uint8_t)c);
			col++;
		}
	} else {
		/* RFC 2047 "B" words of at most 45 bytes, split between characters. */
		i = 0;
		while (i < len) {
			size_t n = len - i > 45 ? 45 : len - i;

			while (n > 1 && i + n < len && ((unsigned char)value[i + n] & 0xc0) == 0x80)
				n--;
			if (i > 0)
				(void)buf_append_str(out, "\r\n ");
			(void)buf_append_str(out, "=?utf-8?b?");
			b64_append(out, (const uint8_t *)value + i, n);
			(void)buf_append_str(out, "?=");
			i += n;
		}
	}
	return buf_append_str(out, "\r\n");
}

/* From: a non-ASCII display name is encoded, the address never is. */
static void address_header(struct buf *out, struct pool *pool, const char *name, const char *value)
{
	const char *lt = strrchr(value, '<');
	char *phrase;
	size_t plen;

	if (lt == NULL || lt == value) {
		(void)sieve_compose_header(out, name, value);
		return;
	}
	plen = (size_t)(lt - value);
	while (plen > 0 && value[plen - 1] == ' ')
		plen--;
	phrase = p_strndup(pool, value, plen);
	if (phrase == NULL) {
		(void)sieve_compose_header(out, name, lt);
		return;
	}
	(void)sieve_compose_header(out, name, phrase);
	/* Replace the final CRLF by the address on the same field. */
	buf_truncate(out, buf_len(out) - 2);
	(void)buf_printf(out, " %s\r\n", lt);
}

static void add_common(struct buf *out, const char *hostname)
{
	static unsigned int counter;
	char date[MAIL_DATE_FORMAT_SIZE];
	time_t now = time(NULL);

	(void)buf_printf(out, "Message-ID: <roost-sieve.%lld.%ld.%u@%s>\r\n", (long long)now,
			 (long)getpid(), counter++, hostname);
	if (mail_date_format_rfc5322(now, 0, date, sizeof(date)))
		(void)buf_printf(out, "Date: %s\r\n", date);
}

/* Keeps only characters that are safe inside a header line. */
static const char *clean(struct pool *pool, const char *s)
{
	return sieve_sanitize(pool, s != NULL ? s : "", 998);
}

bool sieve_compose_redirect(struct sieve_result *result, const struct sieve_action *action,
			    const void *msg, size_t msg_size, struct buf *out,
			    struct sieve_outgoing *env_r)
{
	const struct sieve_settings *set = sieve_result_settings(result);
	const struct sieve_envelope *env = sieve_result_envelope(result);
	struct pool *pool = sieve_result_pool(result);
	const char *how = set->redirect_envelope_from;
	const char *from = env->mail_from != NULL ? env->mail_from : "";

	/* A null sender stays null (RFC 5321 section 4.5.5). */
	if (from[0] != '\0' && how != NULL) {
		size_t hl = strlen(how);

		if (strcmp(how, "recipient") == 0)
			from = env->rcpt_to;
		else if (strcmp(how, "orig_recipient") == 0)
			from = env->orig_rcpt_to != NULL ? env->orig_rcpt_to : env->rcpt_to;
		else if (strcmp(how, "user_email") == 0)
			from = set->user_email != NULL ? set->user_email : env->rcpt_to;
		else if (strcmp(how, "postmaster") == 0 && set->postmaster_address != NULL)
			from = set->postmaster_address;
		else if (hl >= 2 && how[0] == '<' && how[hl - 1] == '>')
			from = p_strndup(pool, how + 1, hl - 2);
	}
	env_r->mail_from = from != NULL ? from : "";
	env_r->rcpt_to = action->address;
	(void)buf_printf(out, "X-Sieve-Redirected-From: %s\r\n", clean(pool, env->rcpt_to));
	return buf_append(out, msg, msg_size);
}

bool sieve_compose_vacation(struct sieve_result *result, const struct sieve_action *action,
			    const char *hostname, struct buf *out, struct sieve_outgoing *env_r)
{
	const struct sieve_settings *set = sieve_result_settings(result);
	const struct sieve_envelope *env = sieve_result_envelope(result);
	struct pool *pool = sieve_result_pool(result);
	const struct sieve_vacation *v = &action->vacation;

	if (action->skip || v->reply_to == NULL)
		return false;
	env_r->mail_from = set->vacation_send_from_recipient ? env->rcpt_to : "";
	env_r->rcpt_to = v->reply_to;
	(void)buf_append_str(out, "X-Sieve: roost Sieve\r\n");
	add_common(out, hostname);
	address_header(out, pool, "From", clean(pool, v->reply_from));
	(void)buf_printf(out, "To: <%s>\r\n", clean(pool, v->reply_to));
	(void)sieve_compose_header(out, "Subject", clean(pool, v->reply_subject));
	if (v->in_reply_to != NULL)
		(void)buf_printf(out, "In-Reply-To: %s\r\n", clean(pool, v->in_reply_to));
	if (v->references != NULL)
		(void)sieve_compose_header(out, "References", clean(pool, v->references));
	/* RFC 3834 section 5: mark the reply so other responders stay quiet. */
	(void)buf_append_str(out, "Auto-Submitted: auto-replied (vacation)\r\n"
				  "Precedence: bulk\r\n"
				  "X-Auto-Response-Suppress: All\r\n"
				  "MIME-Version: 1.0\r\n");
	if (!v->mime) {
		(void)buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n"
					  "Content-Transfer-Encoding: 8bit\r\n\r\n");
	}
	(void)buf_append_str(out, v->reason);
	return buf_append_str(out, "\r\n");
}

bool sieve_compose_reject(struct sieve_result *result, const struct sieve_action *action,
			  const void *msg, size_t msg_size, const char *hostname, struct buf *out,
			  struct sieve_outgoing *env_r)
{
	return sieve_compose_reject_text(result, action, msg, msg_size, hostname, NULL, NULL, out,
					 env_r);
}

/* Appends text with every line ending in CRLF. */
static void append_crlf_text(struct buf *out, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			(void)buf_append_c(out, '\r');
		(void)buf_append_c(out, (uint8_t)*p);
	}
}

bool sieve_compose_reject_text(struct sieve_result *result, const struct sieve_action *action,
			       const void *msg, size_t msg_size, const char *hostname,
			       const char *subject, const char *text, struct buf *out,
			       struct sieve_outgoing *env_r)
{
	const struct sieve_settings *set = sieve_result_settings(result);
	const struct sieve_envelope *env = sieve_result_envelope(result);
	struct sieve_msgview *mv = sieve_result_msgview(result);
	struct pool *pool = sieve_result_pool(result);
	size_t hsize, hvsize, body_off;
	struct sieve_str *vals;
	char boundary[96];
	const char *pm = set->postmaster_address != NULL
				 ? set->postmaster_address
				 : p_strdup_printf(pool, "postmaster@%s", hostname);

	if (action->skip || env->mail_from == NULL || env->mail_from[0] == '\0')
		return false;
	env_r->mail_from = "";
	env_r->rcpt_to = env->mail_from;
	(void)snprintf(boundary, sizeof(boundary), "%lld/%ld/%s", (long long)time(NULL),
		       (long)getpid(), hostname);
	(void)buf_append_str(out, "X-Sieve: roost Sieve\r\n");
	add_common(out, hostname);
	(void)buf_printf(out, "From: Mail Delivery Subsystem <%s>\r\n", clean(pool, pm));
	(void)buf_printf(out, "To: <%s>\r\n", clean(pool, env->mail_from));
	if (subject != NULL)
		(void)sieve_compose_header(out, "Subject", clean(pool, subject));
	else
		(void)buf_append_str(out, "Subject: Automatically rejected mail\r\n");
	(void)buf_append_str(out, "Auto-Submitted: auto-replied (rejected)\r\n"
				  "Precedence: bulk\r\n"
				  "MIME-Version: 1.0\r\n");
	(void)buf_printf(out,
			 "Content-Type: multipart/report; "
			 "report-type=disposition-notification;\r\n\tboundary=\"%s\"\r\n\r\n"
			 "This is a MIME-encapsulated message\r\n\r\n",
			 boundary);
	(void)buf_printf(out,
			 "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Disposition: inline\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
			 boundary);
	if (text != NULL) {
		append_crlf_text(out, text);
		(void)buf_append_str(out, "\r\n");
	} else {
		(void)buf_printf(out, "Your message to <%s> was automatically rejected:\r\n",
				 clean(pool, env->rcpt_to));
		append_crlf_text(out, action->reason);
		(void)buf_append_str(out, "\r\n");
	}
	(void)buf_printf(out,
			 "--%s\r\nContent-Type: message/disposition-notification\r\n\r\n"
			 "Reporting-UA: %s; roost Mail Delivery Agent\r\n",
			 boundary, clean(pool, hostname));
	if (env->orig_rcpt_to != NULL)
		(void)buf_printf(out, "Original-Recipient: rfc822; %s\r\n",
				 clean(pool, env->orig_rcpt_to));
	(void)buf_printf(out, "Final-Recipient: rfc822; %s\r\n", clean(pool, env->rcpt_to));
	if (sieve_msgview_get(mv, "message-id", false, &vals) > 0)
		(void)buf_printf(out, "Original-Message-ID: %s\r\n", clean(pool, vals[0].s));
	(void)buf_append_str(out, "Disposition: automatic-action/MDN-sent-automatically; "
				  "deleted\r\n\r\n");
	/* The original header only: the body is not sent back. */
	message_header_find_end(msg, msg_size, &hsize, &hvsize, &body_off);
	(void)buf_printf(out, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary);
	(void)buf_append(out, msg, hsize);
	return buf_printf(out, "\r\n--%s--\r\n", boundary);
}
