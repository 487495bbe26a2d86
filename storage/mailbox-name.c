/*
 * Mailbox name checks and name <-> directory mapping (see mailbox-name.h).
 * Runs in the mail processes; every name is hostile until it passes
 * mailbox_name_validate().
 */
#include <string.h>
#include <strings.h>

#include "mailbox-name.h"
#include "mutf7.h"

bool mailbox_name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* Length of the UTF-8 sequence at p (at most left bytes), 0 if invalid:
   overlong forms, surrogates, code points past U+10FFFF, C1 controls. */
static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned int cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

static bool invalid(struct mailbox_error *err, const char *why)
{
	return mailbox_error_set(err, MAILBOX_ERROR_INVALID_NAME, "Invalid mailbox name: %s", why);
}

bool mailbox_name_validate(const char *name, enum mail_layout layout, struct mailbox_error *err)
{
	size_t len = strlen(name), comp_start = 0;
	unsigned int depth = 1;

	if (len == 0)
		return invalid(err, "empty name");
	if (len > MAILBOX_NAME_MAX)
		return invalid(err, "name too long");
	if (name[0] == MAILBOX_HIERARCHY_SEP)
		return invalid(err, "must not begin with '/'");
	if (name[0] == '~')
		return invalid(err, "must not begin with '~'");
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == MAILBOX_HIERARCHY_SEP || c == '\0') {
			const char *comp = name + comp_start;
			size_t clen = i - comp_start;

			if (clen == 0)
				return invalid(err, "empty hierarchy level");
			if (comp[0] == '.')
				return invalid(err, "a hierarchy level must not begin with '.'");
			if (layout == MAIL_LAYOUT_FS &&
			    ((clen == 3 &&
			      (memcmp(comp, "cur", 3) == 0 || memcmp(comp, "new", 3) == 0 ||
			       memcmp(comp, "tmp", 3) == 0))))
				return invalid(err, "cur, new and tmp are reserved names");
			if (c == MAILBOX_HIERARCHY_SEP && ++depth > MAILBOX_NAME_DEPTH_MAX)
				return invalid(err, "hierarchy too deep");
			comp_start = i + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return invalid(err, "control characters are not allowed");
		if (c == '.' && layout == MAIL_LAYOUT_MAILDIRPP)
			return invalid(err, "'.' is not allowed (it separates levels on disk)");
		if (c >= 0x80) {
			size_t n = utf8_seq_len((const unsigned char *)name + i, len - i);

			if (n == 0)
				return invalid(err, "not valid UTF-8");
			i += n - 1;
		}
	}
	return true;
}

bool mailbox_name_encode_component(const char *utf8, size_t len, struct buf *out,
				   struct mailbox_error *err)
{
	switch (mutf7_from_utf8(utf8, len, out)) {
	case MUTF7_OK:
		return true;
	case MUTF7_INVALID:
		return invalid(err, "not valid UTF-8");
	case MUTF7_LIMIT:
		break;
	}
	return invalid(err, "name too long");
}

bool mailbox_name_decode_component(const char *enc, size_t len, struct buf *out)
{
	/* Only the canonical encoding decodes, so two directory names can
	   never stand for one mailbox. */
	return mutf7_to_utf8(enc, len, out) == MUTF7_OK;
}

bool mailbox_name_to_dir(const char *name, enum mail_layout layout, struct buf *out,
			 struct mailbox_error *err)
{
	const char *p = name;
	size_t start = buf_len(out);

	if (!mailbox_name_validate(name, layout, err))
		return false;
	if (layout == MAIL_LAYOUT_MAILDIRPP && !buf_append_c(out, '.'))
		return invalid(err, "name too long");
	for (;;) {
		const char *sep = strchr(p, MAILBOX_HIERARCHY_SEP);
		size_t clen = sep != NULL ? (size_t)(sep - p) : strlen(p);

		if (!mailbox_name_encode_component(p, clen, out, err))
			return false;
		if (sep == NULL)
			break;
		if (!buf_append_c(out, layout == MAIL_LAYOUT_MAILDIRPP ? '.' : '/'))
			return invalid(err, "name too long");
		p = sep + 1;
	}
	if (layout == MAIL_LAYOUT_MAILDIRPP && buf_len(out) - start > 255)
		return invalid(err, "name too long on disk");
	return true;
}

bool mailbox_name_from_maildirpp(const char *dirname, struct buf *out)
{
	const char *p;
	size_t start = buf_len(out);
	struct mailbox_error err;

	if (dirname[0] != '.' || dirname[1] == '.' || dirname[1] == '\0')
		return false;
	p = dirname + 1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t clen = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (clen == 0 || !mailbox_name_decode_component(p, clen, out))
			return false;
		if (dot == NULL)
			break;
		if (!buf_append_c(out, MAILBOX_HIERARCHY_SEP))
			return false;
		p = dot + 1;
	}
	return mailbox_name_validate(buf_cstr(out) + start, MAIL_LAYOUT_MAILDIRPP, &err);
}
