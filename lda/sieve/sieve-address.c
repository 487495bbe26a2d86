/*
 * Checks the mail addresses that scripts write (redirect targets, vacation
 * :from and :addresses): exactly one RFC 5322 mailbox, bare or with a
 * display name, read by roost's address parser. Runs in roost-lda and
 * roostadm; the input is script text.
 */
#include <string.h>

#include "../../storage/message-address.h"
#include "sieve-private.h"

/* RFC 5322 dot-atom: atext runs separated by single dots. */
static bool is_dot_atom(const char *s)
{
	bool prev_dot = true;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80))
			return false;
		prev_dot = false;
	}
	return !prev_dot;
}

/* The local part as it must be written: quoted when it is no dot-atom. */
static const char *local_part_text(struct pool *pool, const char *local)
{
	struct buf b;
	char *out;

	if (is_dot_atom(local))
		return local;
	buf_init(&b, strlen(local) * 2 + 3);
	(void)buf_append_c(&b, '"');
	for (; *local != '\0'; local++) {
		if (*local == '"' || *local == '\\')
			(void)buf_append_c(&b, '\\');
		(void)buf_append_c(&b, (uint8_t)*local);
	}
	(void)buf_append_c(&b, '"');
	out = p_strndup(pool, buf_data(&b), buf_len(&b));
	buf_free(&b);
	return out;
}

bool sieve_address_parse(struct pool *pool, const char *s, size_t len, const char **local_r,
			 const char **domain_r, const char **error_r)
{
	const struct message_address *list, *a, *found = NULL;
	unsigned int count = 0;
	const char *error = NULL;

	if (len == 0 || memchr(s, '\0', len) != NULL) {
		*error_r = "empty address";
		return false;
	}
	list = message_address_parse(pool, (const uint8_t *)s, len, 16, &count, &error);
	if (list == NULL) {
		*error_r = error != NULL ? error : "empty address";
		return false;
	}
	for (a = list; a != NULL; a = a->next) {
		if (a->type != MESSAGE_ADDRESS_MAILBOX || found != NULL) {
			*error_r = "not a single mail address";
			return false;
		}
		found = a;
	}
	if (found == NULL || found->invalid || found->mailbox == NULL || found->domain == NULL ||
	    found->mailbox[0] == '\0' || found->domain[0] == '\0' || found->route != NULL) {
		*error_r = p_strdup_printf(pool, "invalid mail address '%s'",
					   sieve_sanitize(pool, s, 80));
		return false;
	}
	*local_r = local_part_text(pool, found->mailbox);
	*domain_r = found->domain;
	return *local_r != NULL;
}
