/*
 * The FETCH attribute parser of roost-imap: macros, message data items,
 * BODY[section]<partial> and BINARY[section] with their exact RFC 3501 /
 * RFC 9051 / RFC 3516 grammar, and the RFC 7162 modifiers. It runs on an
 * authenticated client's arguments, trusts none of them, and depends only
 * on lib/ so that it can be fuzzed on its own.
 */
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "pool.h"

/* Mail clients' usual message-list headers (Thunderbird, Evolution, K-9,
   mutt, Apple Mail), plus what threading and filtering need. */
const char *const fetch_cache_headers[] = {
	"FROM",
	"TO",
	"CC",
	"BCC",
	"SUBJECT",
	"DATE",
	"MESSAGE-ID",
	"IN-REPLY-TO",
	"REFERENCES",
	"REPLY-TO",
	"SENDER",
	"CONTENT-TYPE",
	"PRIORITY",
	"X-PRIORITY",
	"IMPORTANCE",
	"NEWSGROUPS",
	"LIST-ID",
	"LIST-POST",
	"X-MAILER",
	"USER-AGENT",
	"DELIVERED-TO",
	"RETURN-PATH",
	"MIME-VERSION",
	"X-SPAM-FLAG",
	"X-SPAM-STATUS",
	"DISPOSITION-NOTIFICATION-TO",
	"X-MOZILLA-DRAFT-INFO",
	"X-ORIGINAL-TO",
	"CONTENT-TRANSFER-ENCODING",
	"LIST-UNSUBSCRIBE",
	"AUTOCRYPT",
	"X-LABEL",
};
const unsigned int fetch_cache_headers_count = N_ELEMENTS(fetch_cache_headers);

int fetch_cache_header_index(const char *name, size_t len)
{
	for (unsigned int i = 0; i < fetch_cache_headers_count; i++) {
		if (strlen(fetch_cache_headers[i]) == len &&
		    strncasecmp(fetch_cache_headers[i], name, len) == 0)
			return (int)i;
	}
	return -1;
}

/* atom-specials of RFC 9051 besides CTL and SP; ']' ends the section. */
static bool is_atom_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* A header field name: printable ASCII without ':' (RFC 5322 ftext). */
static bool is_field_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != ':';
}

/* A cursor over the section text. */
struct sect_reader {
	const char *p;
	size_t len;
	size_t pos;
};

static bool rd_eat(struct sect_reader *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || strncasecmp(r->p + r->pos, word, n) != 0)
		return false;
	r->pos += n;
	return true;
}

static int rd_peek(const struct sect_reader *r)
{
	return r->pos < r->len ? (unsigned char)r->p[r->pos] : -1;
}

/* number or nz-number (no leading zeros), at most max. */
static bool rd_number(struct sect_reader *r, bool nz, uint64_t max, uint64_t *n_r)
{
	uint64_t n = 0;
	size_t start = r->pos;

	while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
		unsigned int d = (unsigned int)(r->p[r->pos] - '0');

		if (r->pos > start && n == 0)
			return false; /* leading zero */
		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
		r->pos++;
	}
	if (r->pos == start || (nz && n == 0))
		return false;
	*n_r = n;
	return true;
}

/* One header-fld-name (astring without literals), upper-cased into pool. */
static const char *rd_field_name(struct sect_reader *r, struct pool *pool, const char **error_r)
{
	char name[FETCH_MAX_FIELD_NAME + 1];
	size_t n = 0;

	if (rd_peek(r) == '"') {
		r->pos++;
		for (;;) {
			int c = rd_peek(r);

			if (c < 0) {
				*error_r = "Unterminated quoted header field name";
				return NULL;
			}
			r->pos++;
			if (c == '"')
				break;
			if (c == '\\') {
				c = rd_peek(r);
				if (c != '"' && c != '\\') {
					*error_r = "Invalid escape in header field name";
					return NULL;
				}
				r->pos++;
			}
			if (!is_field_char((uint8_t)c)) {
				*error_r = "Invalid header field name";
				return NULL;
			}
			if (n == FETCH_MAX_FIELD_NAME) {
				*error_r = "Header field name too long";
				return NULL;
			}
			name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		}
	} else {
		while (r->pos < r->len && is_atom_char((uint8_t)r->p[r->pos])) {
			char c = r->p[r->pos];

			if (!is_field_char((uint8_t)c)) {
				*error_r = "Invalid header field name";
				return NULL;
			}
			if (n == FETCH_MAX_FIELD_NAME) {
				*error_r = "Header field name too long";
				return NULL;
			}
			name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
			r->pos++;
		}
	}
	if (n == 0) {
		*error_r = "Empty header field name";
		return NULL;
	}
	name[n] = '\0';
	return p_strndup(pool, name, n);
}

/* " (" name *(SP name) ")" after HEADER.FIELDS[.NOT]. */
static bool rd_field_list(struct sect_reader *r, struct pool *pool, struct fetch_section *s,
			  const char **error_r)
{
	size_t alloc = 8;

	if (!rd_eat(r, " (")) {
		*error_r = "Missing header field list";
		return false;
	}
	s->fields = p_malloc_array(pool, alloc, sizeof(*s->fields));
	if (s->fields == NULL)
		goto nomem;
	for (;;) {
		const char *name = rd_field_name(r, pool, error_r);

		if (name == NULL) {
			if (*error_r == NULL)
				goto nomem;
			return false;
		}
		if (s->field_count == FETCH_MAX_HEADER_FIELDS) {
			*error_r = "Too many header fields";
			return false;
		}
		if (s->field_count == alloc) {
			s->fields = p_realloc(pool, s->fields, alloc * sizeof(*s->fields),
					      alloc * 2 * sizeof(*s->fields));
			if (s->fields == NULL)
				goto nomem;
			alloc *= 2;
		}
		s->fields[s->field_count++] = name;
		if (rd_eat(r, ")"))
			return true;
		if (!rd_eat(r, " ")) {
			*error_r = "Invalid header field list";
			return false;
		}
	}
nomem:
	*error_r = "FETCH arguments use too much memory";
	return false;
}

/* section-spec up to (not including) the closing ']'. */
static bool rd_section_spec(struct sect_reader *r, struct pool *pool, struct fetch_section *s,
			    const char **error_r)
{
	char part[FETCH_MAX_PART_DEPTH * 11 + 1];
	size_t plen = 0;
	unsigned int depth = 0;

	part[0] = '\0';
	while (rd_peek(r) >= '0' && rd_peek(r) <= '9') {
		uint64_t n;
		size_t start = r->pos;

		if (!rd_number(r, true, UINT32_MAX, &n)) {
			*error_r = "Invalid section part number";
			return false;
		}
		if (++depth > FETCH_MAX_PART_DEPTH) {
			*error_r = "Section part numbers nested too deeply";
			return false;
		}
		if (plen > 0)
			part[plen++] = '.';
		memcpy(part + plen, r->p + start, r->pos - start);
		plen += r->pos - start;
		part[plen] = '\0';
		if (rd_peek(r) != '.')
			break;
		r->pos++;
		if (rd_peek(r) < '0' || rd_peek(r) > '9') {
			/* section-text follows the part. */
			if (s->kind != FETCH_KIND_BODY) {
				*error_r = "BINARY sections take only part numbers";
				return false;
			}
			break;
		}
	}
	s->part = p_strndup(pool, part, plen);
	if (s->part == NULL) {
		*error_r = "FETCH arguments use too much memory";
		return false;
	}
	if (rd_peek(r) == ']' || rd_peek(r) < 0) {
		if (plen > 0 && r->p[r->pos - 1] == '.') {
			*error_r = "Invalid section";
			return false;
		}
		s->text = FETCH_TEXT_NONE;
		return true;
	}
	if (s->kind != FETCH_KIND_BODY) {
		*error_r = "BINARY sections take only part numbers";
		return false;
	}
	if (rd_eat(r, "HEADER.FIELDS.NOT")) {
		s->text = FETCH_TEXT_HEADER_FIELDS_NOT;
		return rd_field_list(r, pool, s, error_r);
	}
	if (rd_eat(r, "HEADER.FIELDS")) {
		s->text = FETCH_TEXT_HEADER_FIELDS;
		return rd_field_list(r, pool, s, error_r);
	}
	if (rd_eat(r, "HEADER")) {
		s->text = FETCH_TEXT_HEADER;
		return true;
	}
	if (rd_eat(r, "TEXT")) {
		s->text = FETCH_TEXT_TEXT;
		return true;
	}
	if (plen > 0 && rd_eat(r, "MIME")) {
		s->text = FETCH_TEXT_MIME;
		return true;
	}
	*error_r = "Invalid section";
	return false;
}

/* The canonical response name of a parsed section (without <origin>). */
static bool section_make_name(struct pool *pool, const char *prefix, struct fetch_section *s)
{
	static const char *const texts[] = {
		[FETCH_TEXT_NONE] = "",
		[FETCH_TEXT_HEADER] = "HEADER",
		[FETCH_TEXT_HEADER_FIELDS] = "HEADER.FIELDS",
		[FETCH_TEXT_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[FETCH_TEXT_TEXT] = "TEXT",
		[FETCH_TEXT_MIME] = "MIME",
	};
	struct buf name = BUF_INIT(FETCH_MAX_SECTION_TEXT * 2);
	bool ok = buf_append_str(&name, prefix) && buf_append_c(&name, '[') &&
		  buf_append_str(&name, s->part);

	if (ok && s->text != FETCH_TEXT_NONE)
		ok = (s->part[0] == '\0' || buf_append_c(&name, '.')) &&
		     buf_append_str(&name, texts[s->text]);
	if (ok && s->field_count > 0) {
		ok = buf_append_str(&name, " (");
		for (size_t i = 0; ok && i < s->field_count; i++) {
			ok = (i == 0 || buf_append_c(&name, ' ')) &&
			     imap_write_astring(&name, s->fields[i], strlen(s->fields[i]), 0);
		}
		ok = ok && buf_append_c(&name, ')');
	}
	ok = ok && buf_append_c(&name, ']');
	if (ok)
		s->name = p_strndup(pool, buf_data(&name), buf_len(&name));
	buf_free(&name);
	return ok && s->name != NULL;
}

bool fetch_section_parse(struct pool *pool, const char *text, size_t len, struct fetch_section *s,
			 const char **error_r)
{
	static const struct {
		const char *prefix;
		enum fetch_section_kind kind;
		bool peek;
		const char *name;
	} prefixes[] = {
		/* Longest first: "BODY[" must not catch "BODY.PEEK[". */
		{"BODY.PEEK[", FETCH_KIND_BODY, true, "BODY"},
		{"BODY[", FETCH_KIND_BODY, false, "BODY"},
		{"BINARY.PEEK[", FETCH_KIND_BINARY, true, "BINARY"},
		{"BINARY.SIZE[", FETCH_KIND_BINARY_SIZE, true, "BINARY.SIZE"},
		{"BINARY[", FETCH_KIND_BINARY, false, "BINARY"},
	};
	struct sect_reader r = {text, len, 0};
	const char *name = NULL;

	*error_r = NULL;
	memset(s, 0, sizeof(*s));
	if (len > FETCH_MAX_SECTION_TEXT) {
		*error_r = "FETCH section too long";
		return false;
	}
	for (size_t i = 0; i < N_ELEMENTS(prefixes); i++) {
		if (rd_eat(&r, prefixes[i].prefix)) {
			s->kind = prefixes[i].kind;
			s->peek = prefixes[i].peek;
			name = prefixes[i].name;
			break;
		}
	}
	if (name == NULL) {
		*error_r = "Unknown FETCH attribute";
		return false;
	}
	if (!rd_section_spec(&r, pool, s, error_r))
		return false;
	if (!rd_eat(&r, "]")) {
		*error_r = "Invalid section";
		return false;
	}
	if (rd_peek(&r) == '<') {
		r.pos++;
		if (s->kind == FETCH_KIND_BINARY_SIZE) {
			*error_r = "BINARY.SIZE takes no partial range";
			return false;
		}
		if (!rd_number(&r, false, INT64_MAX, &s->partial_offset) || !rd_eat(&r, ".") ||
		    !rd_number(&r, true, INT64_MAX, &s->partial_size) || !rd_eat(&r, ">")) {
			*error_r = "Invalid partial range";
			return false;
		}
		s->partial = true;
	}
	if (r.pos != r.len) {
		*error_r = "Garbage after FETCH section";
		return false;
	}
	s->header_only = s->text == FETCH_TEXT_HEADER || s->text == FETCH_TEXT_HEADER_FIELDS ||
			 s->text == FETCH_TEXT_HEADER_FIELDS_NOT || s->text == FETCH_TEXT_MIME;
	if (s->text == FETCH_TEXT_HEADER_FIELDS && s->part[0] == '\0') {
		s->cacheable = true;
		for (size_t i = 0; i < s->field_count; i++) {
			int idx = fetch_cache_header_index(s->fields[i], strlen(s->fields[i]));

			if (idx < 0) {
				s->cacheable = false;
				s->cached_mask = 0;
				break;
			}
			s->cached_mask |= 1ULL << idx;
		}
	}
	if (!section_make_name(pool, name, s)) {
		*error_r = "FETCH arguments use too much memory";
		return false;
	}
	return true;
}

/* A whole-message section named RFC822, RFC822.HEADER or RFC822.TEXT. */
static bool add_rfc822(struct fetch_request *req, const char *name, enum fetch_section_text text,
		       bool peek)
{
	struct fetch_section *s = &req->sections[req->section_count++];

	memset(s, 0, sizeof(*s));
	s->kind = FETCH_KIND_BODY;
	s->peek = peek;
	s->part = "";
	s->text = text;
	s->name = name;
	s->header_only = text == FETCH_TEXT_HEADER;
	return true;
}

static bool parse_att(struct fetch_request *req, const struct imap_arg *arg, const char **error_r)
{
	static const struct {
		const char *name;
		unsigned int item;
	} simple[] = {
		{"FLAGS", FETCH_ITEM_FLAGS},
		{"INTERNALDATE", FETCH_ITEM_INTERNALDATE},
		{"RFC822.SIZE", FETCH_ITEM_RFC822_SIZE},
		{"UID", FETCH_ITEM_UID},
		{"ENVELOPE", FETCH_ITEM_ENVELOPE},
		{"BODY", FETCH_ITEM_BODY},
		{"BODYSTRUCTURE", FETCH_ITEM_BODYSTRUCTURE},
		{"MODSEQ", FETCH_ITEM_MODSEQ},
		{"PREVIEW", FETCH_ITEM_PREVIEW},
	};
	const char *text;

	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &text)) {
		*error_r = "Invalid FETCH attribute";
		return false;
	}
	for (size_t i = 0; i < N_ELEMENTS(simple); i++) {
		if (strcasecmp(text, simple[i].name) == 0) {
			req->items |= simple[i].item;
			return true;
		}
	}
	if (req->section_count == FETCH_MAX_SECTIONS) {
		*error_r = "Too many FETCH sections";
		return false;
	}
	if (strcasecmp(text, "RFC822") == 0)
		return add_rfc822(req, "RFC822", FETCH_TEXT_NONE, false);
	if (strcasecmp(text, "RFC822.HEADER") == 0)
		return add_rfc822(req, "RFC822.HEADER", FETCH_TEXT_HEADER, true);
	if (strcasecmp(text, "RFC822.TEXT") == 0)
		return add_rfc822(req, "RFC822.TEXT", FETCH_TEXT_TEXT, false);
	if (!fetch_section_parse(req->pool, text, arg->len, &req->sections[req->section_count],
				 error_r)) {
		if (*error_r == NULL)
			*error_r = "Invalid FETCH attribute";
		return false;
	}
	req->section_count++;
	return true;
}

static bool parse_modifiers(struct fetch_request *req, const struct imap_arg *arg,
			    const char **error_r)
{
	const struct imap_arg *mods;
	size_t count;

	if (!imap_arg_get_list(arg, &mods, &count) || count == 0) {
		*error_r = "Invalid FETCH modifiers";
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		const char *num;

		if (imap_arg_atom_equals(&mods[i], "CHANGEDSINCE") && !req->changedsince_set &&
		    i + 1 < count && mods[i + 1].type == IMAP_ARG_ATOM &&
		    imap_arg_get_atom(&mods[i + 1], &num)) {
			struct sect_reader r = {num, mods[i + 1].len, 0};

			/* mod-sequence-value; 0 is accepted from lenient clients. */
			if (!rd_number(&r, false, INT64_MAX, &req->changedsince) ||
			    r.pos != r.len) {
				*error_r = "Invalid CHANGEDSINCE value";
				return false;
			}
			req->changedsince_set = true;
			i++;
		} else if (imap_arg_atom_equals(&mods[i], "VANISHED") && !req->vanished) {
			req->vanished = true;
		} else {
			*error_r = "Unknown FETCH modifier";
			return false;
		}
	}
	if (req->vanished && !req->changedsince_set) {
		*error_r = "VANISHED used without CHANGEDSINCE";
		return false;
	}
	return true;
}

/* "(LAZY ...)": PREVIEW's modifiers. */
static bool is_preview_mods(const struct imap_arg *arg)
{
	const struct imap_arg *mods;
	size_t count;

	if (!imap_arg_get_list(arg, &mods, &count) || count == 0)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (!imap_arg_atom_equals(&mods[i], "LAZY"))
			return false;
	}
	return true;
}

bool fetch_request_parse(struct fetch_request *req, const struct imap_arg *args, size_t argc,
			 const char **error_r)
{
	const struct imap_arg *atts = args;
	size_t count = 1;
	const char *macro;

	memset(req, 0, sizeof(*req));
	if (argc < 1 || argc > 2) {
		*error_r = "Invalid FETCH arguments";
		return false;
	}
	req->pool = pool_create(FETCH_REQUEST_POOL_LIMIT);
	req->sections = p_malloc_array(req->pool, FETCH_MAX_SECTIONS, sizeof(*req->sections));
	if (req->sections == NULL) {
		*error_r = "FETCH arguments use too much memory";
		goto fail;
	}
	if (args[0].type == IMAP_ARG_ATOM && imap_arg_get_atom(&args[0], &macro) &&
	    (strcasecmp(macro, "ALL") == 0 || strcasecmp(macro, "FAST") == 0 ||
	     strcasecmp(macro, "FULL") == 0)) {
		req->items = FETCH_ITEM_FLAGS | FETCH_ITEM_INTERNALDATE | FETCH_ITEM_RFC822_SIZE;
		if (strcasecmp(macro, "FAST") != 0)
			req->items |= FETCH_ITEM_ENVELOPE;
		if (strcasecmp(macro, "FULL") == 0)
			req->items |= FETCH_ITEM_BODY;
	} else {
		if (args[0].type == IMAP_ARG_LIST) {
			(void)imap_arg_get_list(&args[0], &atts, &count);
			if (count == 0) {
				*error_r = "Empty FETCH attribute list";
				goto fail;
			}
		}
		for (size_t i = 0; i < count; i++) {
			if (!parse_att(req, &atts[i], error_r))
				goto fail;
			/* RFC 8970: PREVIEW may take (LAZY); we always have time. */
			if (imap_arg_atom_equals(&atts[i], "PREVIEW") && i + 1 < count &&
			    atts[i + 1].type == IMAP_ARG_LIST) {
				if (!is_preview_mods(&atts[i + 1])) {
					*error_r = "Invalid PREVIEW modifiers";
					goto fail;
				}
				i++;
			}
		}
	}
	if (argc == 2 && imap_arg_atom_equals(&args[0], "PREVIEW") && is_preview_mods(&args[1]))
		argc = 1; /* FETCH 1 PREVIEW (LAZY) */
	if (argc == 2 && !parse_modifiers(req, &args[1], error_r))
		goto fail;
	for (size_t i = 0; i < req->section_count; i++) {
		if (!req->sections[i].peek)
			req->sets_seen = true;
	}
	return true;
fail:
	fetch_request_free(req);
	return false;
}

void fetch_request_free(struct fetch_request *req)
{
	pool_destroy(&req->pool);
	memset(req, 0, sizeof(*req));
}
