/*
 * Charset to UTF-8 conversion (see charset.h). Runs in the sandboxed mail
 * processes; charset names and text both come from messages. Names are
 * checked against a strict character set before iconv sees them, because
 * glibc gives meaning to suffixes such as "//TRANSLIT".
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "buf.h"
#include "message-util.h"
#include "charset.h"

#define REPLACEMENT "\xEF\xBF\xBD"

enum builtin_charset {
	CS_NONE,
	CS_UTF8,
	CS_LATIN1,
	CS_LATIN9,
	CS_CP1252,
};

static const struct {
	const char *name;
	enum builtin_charset cs;
} builtin_names[] = {
	{"us-ascii", CS_UTF8},	     {"ascii", CS_UTF8},	 {"us", CS_UTF8},
	{"ansi_x3.4-1968", CS_UTF8}, {"iso646-us", CS_UTF8},	 {"iso-ir-6", CS_UTF8},
	{"csascii", CS_UTF8},	     {"cp367", CS_UTF8},	 {"ibm367", CS_UTF8},
	{"utf-8", CS_UTF8},	     {"utf8", CS_UTF8},		 {"iso-8859-1", CS_LATIN1},
	{"iso8859-1", CS_LATIN1},    {"iso_8859-1", CS_LATIN1},	 {"iso_8859-1:1987", CS_LATIN1},
	{"latin1", CS_LATIN1},	     {"latin-1", CS_LATIN1},	 {"l1", CS_LATIN1},
	{"iso-ir-100", CS_LATIN1},   {"csisolatin1", CS_LATIN1}, {"ibm819", CS_LATIN1},
	{"cp819", CS_LATIN1},	     {"iso-8859-15", CS_LATIN9}, {"iso8859-15", CS_LATIN9},
	{"iso_8859-15", CS_LATIN9},  {"latin9", CS_LATIN9},	 {"latin-9", CS_LATIN9},
	{"l9", CS_LATIN9},	     {"csisolatin9", CS_LATIN9}, {"windows-1252", CS_CP1252},
	{"cp1252", CS_CP1252},	     {"x-cp1252", CS_CP1252},	 {"ms-ansi", CS_CP1252},
};

/* Names glibc does not know, or knows only as a smaller charset. */
static const struct {
	const char *name;
	const char *iconv_name;
} iconv_aliases[] = {
	{"ks_c_5601-1987", "CP949"},
	{"ks_c_5601", "CP949"},
	{"x-windows-949", "CP949"},
	{"gb2312", "GB18030"},
	{"gbk", "GB18030"},
	{"x-gbk", "GB18030"},
	{"x-sjis", "SHIFT_JIS"},
	{"shift-jis", "SHIFT_JIS"},
	{"x-euc-jp", "EUC-JP"},
	{"x-mac-roman", "MACINTOSH"},
	{"unicode-1-1-utf-7", "UTF-7"},
};

/* windows-1252 0x80..0x9F; undefined bytes map to the C1 control code point
   as the WHATWG encoding standard does. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static bool iconv_enabled = true;

#define ICONV_CACHE_SIZE 16
static struct {
	char name[CHARSET_NAME_MAX + 1];
	iconv_t cd;
	unsigned int last_use;
} iconv_cache[ICONV_CACHE_SIZE];
static unsigned int iconv_use_counter;

/* Lowercases and trims the name into norm; false if it cannot be a charset. */
static bool charset_normalize(const char *charset, char norm[CHARSET_NAME_MAX + 1])
{
	size_t len, start = 0, n = 0;

	if (charset == NULL)
		return false;
	len = strlen(charset);
	while (start < len &&
	       (charset[start] == ' ' || charset[start] == '\t' || charset[start] == '"'))
		start++;
	while (len > start &&
	       (charset[len - 1] == ' ' || charset[len - 1] == '\t' || charset[len - 1] == '"'))
		len--;
	if (len == start || len - start > CHARSET_NAME_MAX)
		return false;
	for (size_t i = start; i < len; i++) {
		uint8_t c = message_ascii_lower((uint8_t)charset[i]);

		/* IANA charset names use these characters only (RFC 2978). */
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':' || c == '+' || c == '(' || c == ')'))
			return false;
		norm[n++] = (char)c;
	}
	norm[n] = '\0';
	return true;
}

static enum builtin_charset builtin_lookup(const char *norm)
{
	for (size_t i = 0; i < N_ELEMENTS(builtin_names); i++) {
		if (strcmp(norm, builtin_names[i].name) == 0)
			return builtin_names[i].cs;
	}
	return CS_NONE;
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid; then
 * *skip_r is the length of the maximal invalid prefix to replace by one
 * U+FFFD (Unicode's "maximal subpart" practice).
 */
static size_t utf8_seq_len(const uint8_t *p, size_t left, size_t *skip_r)
{
	uint8_t c = p[0];
	size_t need;
	uint8_t lo = 0x80, hi = 0xBF;

	*skip_r = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= left)
			return 0;
		if (p[i] < lo || p[i] > hi)
			return 0;
		*skip_r = i + 1;
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

bool charset_utf8_is_valid(const uint8_t *in, size_t len)
{
	size_t i = 0, skip;

	while (i < len) {
		size_t n;

		if (in[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq_len(in + i, len - i, &skip);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

enum charset_result charset_utf8_sanitize(const uint8_t *in, size_t len, struct buf *out)
{
	enum charset_result ret = CHARSET_RESULT_OK;
	size_t i = 0, run = 0;

	while (i < len) {
		size_t n, skip;

		if (in[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq_len(in + i, len - i, &skip);
		if (n > 0) {
			i += n;
			continue;
		}
		/* Flush the valid run before the bad bytes, then replace them. */
		if (!buf_append(out, in + run, i - run) || !buf_append(out, REPLACEMENT, 3))
			return CHARSET_RESULT_LIMIT;
		ret = CHARSET_RESULT_INVALID_INPUT;
		i += skip;
		run = i;
	}
	if (!buf_append(out, in + run, len - run)) {
		/* Keep what fits, cut on a character boundary. */
		size_t room = buf_room(out), cut = room;

		while (cut > 0 && (in[run + cut] & 0xC0) == 0x80)
			cut--;
		(void)buf_append(out, in + run, cut);
		return CHARSET_RESULT_LIMIT;
	}
	return ret;
}

static enum charset_result convert_8bit_table(enum builtin_charset cs, const uint8_t *in,
					      size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		uint8_t *w;
		size_t n = 0;

		while (i < len && in[i] < 0x80)
			i++;
		if (!buf_append(out, in + run, i - run))
			return CHARSET_RESULT_LIMIT;
		if (i == len)
			break;
		/* Each high byte becomes at most three bytes of UTF-8. */
		w = buf_reserve(out, 3);
		if (w == NULL)
			return CHARSET_RESULT_LIMIT;
		uint32_t cp = in[i];

		if (cp < 0xA0) {
			if (cs == CS_CP1252 || cs == CS_LATIN1)
				cp = cp1252_high[cp - 0x80];
		} else if (cs == CS_LATIN9) {
			switch (cp) {
			case 0xA4:
				cp = 0x20AC;
				break;
			case 0xA6:
				cp = 0x0160;
				break;
			case 0xA8:
				cp = 0x0161;
				break;
			case 0xB4:
				cp = 0x017D;
				break;
			case 0xB8:
				cp = 0x017E;
				break;
			case 0xBC:
				cp = 0x0152;
				break;
			case 0xBD:
				cp = 0x0153;
				break;
			case 0xBE:
				cp = 0x0178;
				break;
			default:
				break;
			}
		}
		n = utf8_encode(cp, w);
		buf_commit(out, n);
		i++;
	}
	return CHARSET_RESULT_OK;
}

static iconv_t iconv_cache_get(const char *norm)
{
	const char *iconv_name = norm;
	unsigned int victim = 0;
	iconv_t cd;

	for (unsigned int i = 0; i < ICONV_CACHE_SIZE; i++) {
		if (iconv_cache[i].name[0] != '\0' && strcmp(iconv_cache[i].name, norm) == 0) {
			iconv_cache[i].last_use = ++iconv_use_counter;
			return iconv_cache[i].cd;
		}
		if (iconv_cache[i].last_use < iconv_cache[victim].last_use)
			victim = i;
	}
	for (size_t i = 0; i < N_ELEMENTS(iconv_aliases); i++) {
		if (strcmp(norm, iconv_aliases[i].name) == 0) {
			iconv_name = iconv_aliases[i].iconv_name;
			break;
		}
	}
	cd = iconv_open("UTF-8", iconv_name);
	if (cd == (iconv_t)-1)
		return cd;
	if (iconv_cache[victim].name[0] != '\0')
		(void)iconv_close(iconv_cache[victim].cd);
	(void)str_copy(iconv_cache[victim].name, sizeof(iconv_cache[victim].name), norm);
	iconv_cache[victim].cd = cd;
	iconv_cache[victim].last_use = ++iconv_use_counter;
	return cd;
}

static enum charset_result convert_iconv_raw(iconv_t cd, const uint8_t *in, size_t len,
					     struct buf *out)
{
	enum charset_result ret = CHARSET_RESULT_OK;
	char *inp = (char *)(uintptr_t)in;
	size_t inleft = len;
	bool flushing = false;

	/* Reset the shift state a previous use may have left behind. */
	(void)iconv(cd, NULL, NULL, NULL, NULL);
	for (;;) {
		size_t room = buf_room(out), chunk, produced, res;
		char *outp;
		size_t outleft;

		/* Enough for the whole input in most charsets, at least one
		   character, at most 64 KiB at a time. */
		chunk = inleft > 16384 ? 65536 : inleft * 4 + 16;
		if (chunk > room)
			chunk = room;
		if (chunk == 0)
			return CHARSET_RESULT_LIMIT;
		outp = (char *)buf_reserve(out, chunk);
		if (outp == NULL)
			return CHARSET_RESULT_LIMIT;
		outleft = chunk;
		if (flushing)
			res = iconv(cd, NULL, NULL, &outp, &outleft);
		else
			res = iconv(cd, &inp, &inleft, &outp, &outleft);
		produced = chunk - outleft;
		buf_commit(out, produced);
		if (res != (size_t)-1) {
			if (flushing)
				break;
			flushing = true;
			continue;
		}
		if (errno == E2BIG) {
			if (produced == 0 && chunk == room)
				return CHARSET_RESULT_LIMIT;
			continue;
		}
		if (flushing)
			break;
		/* EILSEQ is one bad byte; EINVAL a truncated sequence at the end;
		   anything else is not documented and ends the conversion. */
		if (!buf_append(out, REPLACEMENT, 3))
			return CHARSET_RESULT_LIMIT;
		ret = CHARSET_RESULT_INVALID_INPUT;
		if (errno != EILSEQ || inleft <= 1) {
			inleft = 0;
			flushing = true;
			continue;
		}
		inp++;
		inleft--;
	}
	return ret;
}

/*
 * glibc's UCS-4 and similar decoders pass code points past U+10FFFF and
 * surrogates straight through, producing invalid UTF-8; the output is
 * checked and repaired so callers can rely on valid UTF-8.
 */
static enum charset_result convert_iconv(iconv_t cd, const uint8_t *in, size_t len, struct buf *out)
{
	size_t start = buf_len(out);
	enum charset_result ret = convert_iconv_raw(cd, in, len, out);
	struct buf fixed;

	if (charset_utf8_is_valid(buf_data(out) + start, buf_len(out) - start))
		return ret;
	buf_init(&fixed, buf_room(out) + (buf_len(out) - start));
	(void)charset_utf8_sanitize(buf_data(out) + start, buf_len(out) - start, &fixed);
	buf_truncate(out, start);
	if (!buf_append(out, buf_data(&fixed), buf_len(&fixed)))
		ret = CHARSET_RESULT_LIMIT;
	else if (ret == CHARSET_RESULT_OK)
		ret = CHARSET_RESULT_INVALID_INPUT;
	buf_free(&fixed);
	return ret;
}

bool charset_is_builtin(const char *charset)
{
	char norm[CHARSET_NAME_MAX + 1];

	return charset_normalize(charset, norm) && builtin_lookup(norm) != CS_NONE;
}

bool charset_is_known(const char *charset)
{
	char norm[CHARSET_NAME_MAX + 1];

	if (!charset_normalize(charset, norm))
		return false;
	if (builtin_lookup(norm) != CS_NONE)
		return true;
	return iconv_enabled && iconv_cache_get(norm) != (iconv_t)-1;
}

enum charset_result charset_to_utf8(const char *charset, const uint8_t *in, size_t len,
				    struct buf *out)
{
	char norm[CHARSET_NAME_MAX + 1];
	enum builtin_charset cs;
	iconv_t cd;

	if (!charset_normalize(charset, norm))
		return CHARSET_RESULT_UNKNOWN;
	cs = builtin_lookup(norm);
	switch (cs) {
	case CS_UTF8:
		return charset_utf8_sanitize(in, len, out);
	case CS_LATIN1:
	case CS_LATIN9:
	case CS_CP1252:
		return convert_8bit_table(cs, in, len, out);
	case CS_NONE:
		break;
	}
	if (!iconv_enabled)
		return CHARSET_RESULT_UNKNOWN;
	cd = iconv_cache_get(norm);
	if (cd == (iconv_t)-1)
		return CHARSET_RESULT_UNKNOWN;
	return convert_iconv(cd, in, len, out);
}

void charset_set_iconv_enabled(bool enabled)
{
	iconv_enabled = enabled;
}

unsigned int charset_preload(void)
{
	static const char *const common[] = {
		"iso-8859-2", "windows-1250", "windows-1251", "koi8-r", "koi8-u",
		"gb18030",    "big5",	      "shift_jis",    "euc-jp", "iso-2022-jp",
		"cp949",      "euc-kr",	      "iso-8859-7",   "utf-16", "windows-1256",
	};
	unsigned int n = 0;

	if (!iconv_enabled)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(common) && i < ICONV_CACHE_SIZE; i++) {
		if (iconv_cache_get(common[i]) != (iconv_t)-1)
			n++;
	}
	return n;
}

void charset_deinit(void)
{
	for (unsigned int i = 0; i < ICONV_CACHE_SIZE; i++) {
		if (iconv_cache[i].name[0] != '\0') {
			(void)iconv_close(iconv_cache[i].cd);
			iconv_cache[i].name[0] = '\0';
		}
		iconv_cache[i].last_use = 0;
	}
}
