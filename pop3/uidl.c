/*
 * UIDL values (RFC 1939 7): pop3_uidl_format as Dovecot spells it
 * ("%08Xu%08Xv" by default: UID and UIDVALIDITY in hex), or the message's
 * own X-UIDL header when pop3_reuse_xuidl is set (for sites migrated from
 * servers that stored it). UIDLs must stay the same across sessions, restarts
 * and index rebuilds: they derive only from the uidlist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "pop3.h"
#include "storage/message-header.h"
#include "xalloc.h"

#define XUIDL_HEADER_READ 65536
#define UIDL_MAX	  70 /* RFC 1939: 1 to 70 characters */

/* One "%[0][width][X]u|v" item; returns the bytes it used, 0 if invalid. */
static size_t uidl_item(const char *p, uint32_t uid, uint32_t uidvalidity, struct buf *out)
{
	const char *start = p;
	bool zero = false, hex = false;
	unsigned int width = 0;
	uint32_t value;

	if (*p == '0') {
		zero = true;
		p++;
	}
	while (*p >= '0' && *p <= '9' && width < 100)
		width = width * 10 + (unsigned int)(*p++ - '0');
	if (*p == 'X') {
		hex = true;
		p++;
	}
	if (*p == 'u')
		value = uid;
	else if (*p == 'v')
		value = uidvalidity;
	else
		return 0;
	if (out == NULL)
		return (size_t)(p - start) + 1;
	/* Dovecot spells %X in lower case ("%08Xu%08Xv" gives
	   "000000016b07d303"): the same bytes, or clients fetch everything
	   again after a migration. */
	if (zero && hex)
		(void)buf_printf(out, "%0*x", (int)width, value);
	else if (zero)
		(void)buf_printf(out, "%0*u", (int)width, value);
	else if (hex)
		(void)buf_printf(out, "%*x", (int)width, value);
	else
		(void)buf_printf(out, "%*u", (int)width, value);
	return (size_t)(p - start) + 1;
}

/* Expands format; false when it uses something roost cannot provide. */
static bool uidl_expand(const char *format, uint32_t uid, uint32_t uidvalidity, struct buf *out)
{
	for (const char *p = format; *p != '\0'; p++) {
		size_t used;

		if (*p != '%') {
			if (out != NULL)
				(void)buf_append_c(out, (uint8_t)*p);
			continue;
		}
		if (p[1] == '%') {
			if (out != NULL)
				(void)buf_append_c(out, '%');
			p++;
			continue;
		}
		used = uidl_item(p + 1, uid, uidvalidity, out);
		if (used == 0)
			return false;
		p += used;
	}
	return true;
}

bool pop3_uidl_format_valid(const char *format, const char **error_r)
{
	struct buf sample = BUF_INIT(256);
	bool ok = uidl_expand(format, 4294967295U, 4294967295U, &sample);

	*error_r = NULL;
	if (!ok)
		*error_r = "pop3_uidl_format: only %u and %v (with 0, width and X, as in "
			   "%08Xu%08Xv) are supported";
	else if (buf_len(&sample) == 0 || buf_len(&sample) > UIDL_MAX)
		*error_r = "pop3_uidl_format gives UIDLs that are empty or longer than 70 "
			   "characters";
	buf_free(&sample);
	return ok && *error_r == NULL;
}

/* The X-UIDL header of the message, if it has a usable one. */
static bool xuidl(struct pop3_client *client, const struct pop3_message *msg, char *out,
		  size_t size)
{
	uint32_t seq = mailbox_seq_by_uid(client->box, msg->uid);
	struct mailbox_error err;
	uint8_t *head;
	struct pool *pool;
	const char *value;
	ssize_t n;
	int fd;
	bool ok = false;

	if (seq == 0 || !mailbox_mail_open(client->box, seq, &fd, &err))
		return false;
	head = i_malloc(XUIDL_HEADER_READ);
	n = read(fd, head, XUIDL_HEADER_READ);
	close(fd);
	if (n > 0) {
		pool = pool_create(64 * 1024);
		value = message_header_get_first(pool, head, (size_t)n, "X-UIDL");
		if (value != NULL) {
			while (*value == ' ' || *value == '\t')
				value++;
			size_t len = strcspn(value, " \t\r\n");
			/* RFC 1939: 0x21..0x7E only, at most 70 characters. */
			ok = len > 0 && len <= UIDL_MAX;
			for (size_t i = 0; ok && i < len; i++)
				ok = value[i] > 0x20 && value[i] < 0x7f;
			if (ok)
				ok = str_copy_n(out, size, value, len);
		}
		pool_destroy(&pool);
	}
	free(head);
	return ok;
}

void pop3_uidl(struct pop3_client *client, const struct pop3_message *msg, char *out, size_t size)
{
	struct buf b = BUF_INIT(256);

	if (client->mp->set->pop3_reuse_xuidl && xuidl(client, msg, out, size))
		return;
	(void)uidl_expand(client->mp->set->pop3_uidl_format, msg->uid,
			  mailbox_uidvalidity(client->box), &b);
	(void)str_copy(out, size, buf_cstr(&b));
	buf_free(&b);
}
