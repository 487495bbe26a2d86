/*
 * Maildir file name parsing and building (see maildir-filename.h). Runs in
 * the mail processes; names are untrusted and every field is bounds- and
 * overflow-checked.
 */
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "mailbox-flags.h"
#include "maildir-filename.h"

static const struct {
	char letter;
	uint32_t flag;
} flag_letters[] = {
	{'D', MAIL_DRAFT}, {'F', MAIL_FLAGGED}, {'R', MAIL_ANSWERED},
	{'S', MAIL_SEEN},  {'T', MAIL_DELETED},
};

/* Bytes never allowed in a message file name: controls, DEL and '/'. */
static const bool name_bad[256] = {
	[0x00 ... 0x1f] = true,
	['/'] = true,
	[0x7f] = true,
};

bool maildir_filename_valid(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	bool bad = false;

	if (len == 0 || len > MAILDIR_FILENAME_MAX || name[0] == '.' || name[0] == ':')
		return false;
	/* No early exit: a branch-free loop over at most 255 bytes. */
	for (size_t i = 0; i < len; i++)
		bad |= name_bad[p[i]];
	return !bad;
}

/* Parses "digits" in [p, end) into *v; false if empty, not all digits, or
   above MAILDIR_SIZE_MAX. */
static bool parse_size(const char *p, const char *end, uint64_t *v_r)
{
	uint64_t v = 0;

	if (p == end)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > MAILDIR_SIZE_MAX)
			return false;
	}
	*v_r = v;
	return true;
}

bool maildir_filename_parse(const char *name, size_t len, struct maildir_filename *fn_r)
{
	const char *colon, *p, *end;

	memset(fn_r, 0, sizeof(*fn_r));
	if (!maildir_filename_valid(name, len))
		return false;
	colon = memchr(name, ':', len);
	fn_r->base_len = colon != NULL ? (size_t)(colon - name) : len;

	/* ",KEY=value" fields after the unique part of the base. */
	end = name + fn_r->base_len;
	p = memchr(name, ',', fn_r->base_len);
	while (p != NULL && p < end) {
		const char *next = memchr(p + 1, ',', (size_t)(end - p - 1));
		const char *fend = next != NULL ? next : end;
		uint64_t v;

		if (fend - p > 2 && p[2] == '=') {
			if (p[1] == 'S' && parse_size(p + 3, fend, &v)) {
				fn_r->psize = v;
				fn_r->has_psize = true;
			} else if (p[1] == 'W' && parse_size(p + 3, fend, &v)) {
				fn_r->vsize = v;
				fn_r->has_vsize = true;
			}
		}
		p = next;
	}
	if (colon != NULL && len - fn_r->base_len >= 3 && colon[1] == '2' && colon[2] == ',') {
		fn_r->has_info = true;
		for (p = colon + 3; p < name + len; p++) {
			if (*p >= 'a' && *p <= 'z') {
				fn_r->keywords |= 1U << (*p - 'a');
				continue;
			}
			for (size_t i = 0; i < N_ELEMENTS(flag_letters); i++) {
				if (*p == flag_letters[i].letter)
					fn_r->flags |= flag_letters[i].flag;
			}
		}
	}
	return true;
}

bool maildir_flags_to_letters(uint32_t flags, uint32_t keywords, struct buf *out)
{
	for (size_t i = 0; i < N_ELEMENTS(flag_letters); i++) {
		if ((flags & flag_letters[i].flag) != 0 &&
		    !buf_append_c(out, flag_letters[i].letter))
			return false;
	}
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if ((keywords & (1U << i)) != 0 && !buf_append_c(out, (uint8_t)('a' + i)))
			return false;
	}
	return true;
}

static bool is_known_letter(char c)
{
	if (c >= 'a' && c <= 'z')
		return true;
	for (size_t i = 0; i < N_ELEMENTS(flag_letters); i++) {
		if (c == flag_letters[i].letter)
			return true;
	}
	return false;
}

bool maildir_filename_build(const char *name, size_t len, uint32_t flags, uint32_t keywords,
			    struct buf *out)
{
	const char *colon = memchr(name, ':', len);
	size_t base_len = colon != NULL ? (size_t)(colon - name) : len;
	bool keep[256] = {false};
	char letters[256];
	size_t nletters = 0;
	struct buf known = BUF_INIT(64);
	bool ok;

	/* Unknown info letters of an existing ":2," section are kept. */
	if (colon != NULL && len - base_len >= 3 && colon[1] == '2' && colon[2] == ',') {
		for (const char *p = colon + 3; p < name + len; p++) {
			unsigned char c = (unsigned char)*p;

			if (!is_known_letter((char)c) && c > 0x20 && c < 0x7f && c != ':' &&
			    c != '/')
				keep[c] = true;
		}
	}
	ok = maildir_flags_to_letters(flags & MAIL_FLAGS_MASK, keywords & MAIL_KEYWORDS_MASK,
				      &known);
	for (size_t i = 0; ok && i < buf_len(&known); i++)
		keep[buf_data(&known)[i]] = true;
	buf_free(&known);
	for (int c = 0; c < 256; c++) {
		if (keep[c])
			letters[nletters++] = (char)c;
	}
	return ok && buf_append(out, name, base_len) && buf_append(out, ":2,", 3) &&
	       buf_append(out, letters, nletters);
}

bool maildir_filename_generate(const char *host, struct buf *out)
{
	static unsigned int counter;
	struct timeval tv;
	size_t start;

	gettimeofday(&tv, NULL);
	if (!buf_printf(out, "%lld.M%06ldP%dQ%u.", (long long)tv.tv_sec, (long)tv.tv_usec,
			(int)getpid(), ++counter))
		return false;
	start = buf_len(out);
	for (const char *p = host; *p != '\0' && buf_len(out) - start < 64; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok;

		if (c == '/')
			ok = buf_append_str(out, "\\057");
		else if (c == ':')
			ok = buf_append_str(out, "\\072");
		else if (c <= 0x20 || c >= 0x7f || c == ',')
			ok = buf_append_c(out, '_');
		else
			ok = buf_append_c(out, c);
		if (!ok)
			return false;
	}
	if (buf_len(out) == start)
		return buf_append_str(out, "localhost");
	return true;
}

static size_t base_len_of(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);

	return colon != NULL ? (size_t)(colon - s) : len;
}

int maildir_filename_base_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t la = base_len_of(a, alen), lb = base_len_of(b, blen);
	int r = memcmp(a, b, la < lb ? la : lb);

	if (r != 0)
		return r;
	return la < lb ? -1 : la > lb ? 1 : 0;
}

/* The leading decimal seconds of a name, or UINT64_MAX if it has none. */
static uint64_t leading_secs(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && i < 19 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return i == 0 ? UINT64_MAX : v;
}

int maildir_filename_sort_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t sa = leading_secs(a, alen), sb = leading_secs(b, blen);

	if (sa != sb)
		return sa < sb ? -1 : 1;
	return maildir_filename_base_cmp(a, alen, b, blen);
}
