/*
 * IMAP ENVELOPE parser and writer (see imap-envelope.h). Runs in roost-imap
 * on untrusted headers; all strings go out through imap-quote, so no header
 * value can change the structure of the response.
 */
#include <string.h>

#include "buf.h"
#include "pool.h"
#include "imap-quote.h"
#include "message-address.h"
#include "message-header.h"
#include "message-util.h"
#include "imap-envelope.h"

/* Pool size for imap_envelope_write_header(): headers are capped, so this
   only has to cover the copies of one header block. */
#define ENVELOPE_POOL_MAX (16U * 1024 * 1024)

enum env_field {
	ENV_DATE,
	ENV_SUBJECT,
	ENV_FROM,
	ENV_SENDER,
	ENV_REPLY_TO,
	ENV_TO,
	ENV_CC,
	ENV_BCC,
	ENV_IN_REPLY_TO,
	ENV_MESSAGE_ID,
	ENV_COUNT
};

static const char *const env_names[ENV_COUNT] = {
	"Date", "Subject", "From", "Sender",	  "Reply-To",
	"To",	"Cc",	   "Bcc",  "In-Reply-To", "Message-ID",
};

static int env_field_lookup(const struct message_header_field *f)
{
	for (int i = 0; i < ENV_COUNT; i++) {
		if (message_header_name_is(f, env_names[i]))
			return i;
	}
	return -1;
}

static struct message_address **address_field(struct imap_envelope *env, int field)
{
	switch (field) {
	case ENV_FROM:
		return &env->from;
	case ENV_SENDER:
		return &env->sender;
	case ENV_REPLY_TO:
		return &env->reply_to;
	case ENV_TO:
		return &env->to;
	case ENV_CC:
		return &env->cc;
	case ENV_BCC:
		return &env->bcc;
	default:
		return NULL;
	}
}

static const char **string_field(struct imap_envelope *env, int field)
{
	switch (field) {
	case ENV_DATE:
		return &env->date;
	case ENV_SUBJECT:
		return &env->subject;
	case ENV_IN_REPLY_TO:
		return &env->in_reply_to;
	case ENV_MESSAGE_ID:
		return &env->message_id;
	default:
		return NULL;
	}
}

bool imap_envelope_parse(struct pool *pool, const uint8_t *hdr, size_t len,
			 struct imap_envelope **env_r, const char **error_r)
{
	struct message_header_iter iter;
	struct message_header_field f;
	struct message_address *tails[ENV_COUNT] = {NULL};
	struct imap_envelope *env;
	enum message_header_result ret;
	bool ok = true;

	*env_r = NULL;
	env = p_malloc(pool, sizeof(*env));
	if (env == NULL) {
		*error_r = "Out of memory for the envelope (pool limit)";
		return false;
	}
	message_header_iter_init(&iter, hdr, len, NULL);
	while ((ret = message_header_iter_next(&iter, &f)) == MESSAGE_HEADER_RESULT_FIELD) {
		int field = env_field_lookup(&f);
		struct message_address **list, *addrs;
		const char **str;

		if (field < 0)
			continue;
		str = string_field(env, field);
		if (str != NULL) {
			if (*str == NULL) {
				*str = message_p_strndup(pool, f.value, f.value_len);
				if (*str == NULL) {
					*error_r = "Out of memory for the envelope (pool limit)";
					ok = false;
					break;
				}
			}
			continue;
		}
		list = address_field(env, field);
		addrs = message_address_parse(pool, f.value, f.value_len, 0, NULL, error_r);
		if (addrs == NULL && *error_r != NULL) {
			ok = false;
			break;
		}
		if (addrs == NULL)
			continue;
		if (tails[field] == NULL)
			*list = addrs;
		else
			tails[field]->next = addrs;
		while (addrs->next != NULL)
			addrs = addrs->next;
		tails[field] = addrs;
	}
	if (ok && ret == MESSAGE_HEADER_RESULT_LIMIT) {
		*error_r = iter.error;
		ok = false;
	}
	message_header_iter_deinit(&iter);
	if (!ok)
		return false;
	if (env->sender == NULL)
		env->sender = env->from;
	if (env->reply_to == NULL)
		env->reply_to = env->from;
	*env_r = env;
	*error_r = NULL;
	return true;
}

static bool write_address_list(struct buf *out, const struct message_address *addr,
			       unsigned int flags)
{
	bool ok = true;

	if (addr == NULL)
		return buf_append_str(out, "NIL");
	ok = buf_append_c(out, '(');
	for (; addr != NULL && ok; addr = addr->next) {
		ok = buf_append_c(out, '(');
		switch (addr->type) {
		case MESSAGE_ADDRESS_GROUP_START:
			ok = ok && buf_append_str(out, "NIL NIL ") &&
			     imap_write_nstring(out, addr->mailbox != NULL ? addr->mailbox : "",
						flags) &&
			     buf_append_str(out, " NIL");
			break;
		case MESSAGE_ADDRESS_GROUP_END:
			ok = ok && buf_append_str(out, "NIL NIL NIL NIL");
			break;
		case MESSAGE_ADDRESS_MAILBOX:
			ok = ok && imap_write_nstring(out, addr->name, flags) &&
			     buf_append_c(out, ' ') &&
			     imap_write_nstring(out, addr->route, flags) &&
			     buf_append_c(out, ' ') &&
			     imap_write_nstring(
				     out, addr->mailbox != NULL ? addr->mailbox : "MISSING_MAILBOX",
				     flags) &&
			     buf_append_c(out, ' ') &&
			     imap_write_nstring(
				     out, addr->domain != NULL ? addr->domain : "MISSING_DOMAIN",
				     flags);
			break;
		}
		ok = ok && buf_append_c(out, ')');
	}
	return ok && buf_append_c(out, ')');
}

bool imap_envelope_write(struct buf *out, const struct imap_envelope *env, unsigned int flags)
{
	return buf_append_c(out, '(') && imap_write_nstring(out, env->date, flags) &&
	       buf_append_c(out, ' ') && imap_write_nstring(out, env->subject, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->from, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->sender, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->reply_to, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->to, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->cc, flags) &&
	       buf_append_c(out, ' ') && write_address_list(out, env->bcc, flags) &&
	       buf_append_c(out, ' ') && imap_write_nstring(out, env->in_reply_to, flags) &&
	       buf_append_c(out, ' ') && imap_write_nstring(out, env->message_id, flags) &&
	       buf_append_c(out, ')');
}

bool imap_envelope_write_empty(struct buf *out)
{
	return buf_append_str(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

bool imap_envelope_write_header(struct buf *out, const uint8_t *hdr, size_t len, unsigned int flags,
				const char **error_r)
{
	struct pool *pool = pool_create(ENVELOPE_POOL_MAX);
	struct imap_envelope *env;
	bool ok;

	ok = imap_envelope_parse(pool, hdr, len, &env, error_r);
	if (ok && !imap_envelope_write(out, env, flags)) {
		*error_r = "Output buffer full";
		ok = false;
	}
	pool_destroy(&pool);
	return ok;
}
