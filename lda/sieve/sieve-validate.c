/*
 * Sieve validator: checks the syntax tree against the commands, tests and
 * tagged arguments of the core language and of the extensions the script
 * requires, compiles strings into templates (encoded-character, variables)
 * and regular expressions once, and collects every error with its line and
 * column. Runs in roost-lda and roostadm on untrusted scripts.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sieve-private.h"

void sieve_v_error(struct sieve_validator *v, unsigned int line, unsigned int col, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	sieve_errors_add(v->errs, v->script->name, line, col, false, fmt, ap);
	va_end(ap);
	v->failed = true;
}

void sieve_v_warning(struct sieve_validator *v, unsigned int line, unsigned int col,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sieve_errors_add(v->errs, v->script->name, line, col, true, fmt, ap);
	va_end(ap);
}

bool sieve_v_ext(const struct sieve_validator *v, enum sieve_ext ext)
{
	return v->script->required[ext];
}

static bool v_oom(struct sieve_validator *v, unsigned int line, unsigned int col)
{
	sieve_v_error(v, line, col, "script is too complex (out of memory)");
	return false;
}

/*
 * Encoded characters (RFC 5228 section 2.4.2.4)
 */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void utf8_put(struct buf *b, uint32_t cp)
{
	uint8_t o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (uint8_t)(0xf0 | (cp >> 18));
		o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	(void)buf_append(b, o, n);
}

/*
 * Tries to decode one "${hex:...}" or "${unicode:...}" at s (which starts
 * with "${"). Returns the length consumed or 0 when it is not an encoding.
 */
static size_t enc_char_one(struct sieve_validator *v, const char *s, size_t len, struct buf *out,
			   unsigned int line, unsigned int col)
{
	size_t i = 2, start;
	bool unicode;
	size_t before = buf_len(out);

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (len - i >= 4 && strncasecmp(s + i, "hex:", 4) == 0) {
		unicode = false;
		i += 4;
	} else if (len - i >= 8 && strncasecmp(s + i, "unicode:", 8) == 0) {
		unicode = true;
		i += 8;
	} else {
		return 0;
	}
	start = i;
	for (;;) {
		uint32_t val = 0;
		size_t digits = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i < len && s[i] == '}')
			break;
		while (i < len && hexval((unsigned char)s[i]) >= 0) {
			if (val > 0x10ffff)
				val = 0x110000;
			else
				val = val * 16 + (uint32_t)hexval((unsigned char)s[i]);
			digits++;
			i++;
		}
		if (digits == 0)
			goto invalid;
		if (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '}' && s[i] != '\r' &&
		    s[i] != '\n')
			goto invalid;
		if (unicode) {
			if (digits > 8 || val > 0x10ffff || (val >= 0xd800 && val <= 0xdfff)) {
				sieve_v_error(v, line, col,
					      "invalid unicode character 0x%08x in encoded "
					      "character substitution",
					      val);
				goto invalid;
			}
			utf8_put(out, val);
		} else {
			if (digits > 2 || digits == 0)
				goto invalid;
			(void)buf_append_c(out, (uint8_t)val);
		}
	}
	if (i >= len || s[i] != '}' || i == start)
		goto invalid;
	return i + 1;
invalid:
	buf_truncate(out, before);
	return 0;
}

static bool enc_char_decode(struct sieve_validator *v, const struct sieve_str *in,
			    struct sieve_str *out, unsigned int line, unsigned int col)
{
	struct buf b;
	size_t i = 0;
	char *s;

	if (memmem(in->s, in->len, "${", 2) == NULL) {
		*out = *in;
		return true;
	}
	buf_init(&b, in->len + 1);
	while (i < in->len) {
		if (in->s[i] == '$' && i + 1 < in->len && in->s[i + 1] == '{') {
			size_t n = enc_char_one(v, in->s + i, in->len - i, &b, line, col);

			if (n > 0) {
				i += n;
				continue;
			}
		}
		(void)buf_append_c(&b, (uint8_t)in->s[i]);
		i++;
	}
	s = p_strndup(v->script->pool, buf_data(&b), buf_len(&b));
	out->len = buf_len(&b);
	buf_free(&b);
	if (s == NULL)
		return v_oom(v, line, col);
	out->s = s;
	return true;
}

/*
 * Variables (RFC 5229 section 3)
 */

bool sieve_valid_variable_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (i = 1; i < len; i++) {
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
			return false;
	}
	return true;
}

static int scope_find(const struct sieve_varscope *sc, const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < sc->count; i++) {
		if (strlen(sc->names[i]) == len && strncasecmp(sc->names[i], name, len) == 0)
			return (int)i;
	}
	return -1;
}

static int scope_declare(struct sieve_validator *v, struct sieve_varscope *sc, const char *name,
			 size_t len, unsigned int line, unsigned int col, const char *what)
{
	int idx = scope_find(sc, name, len);
	char *copy;

	if (idx >= 0)
		return idx;
	if (sc->count >= v->script->set->variables_max_scope_size) {
		sieve_v_error(v, line, col,
			      "declaration of new %s variable '%.*s' exceeds the limit "
			      "(max variables: %u)",
			      what, (int)len, name, v->script->set->variables_max_scope_size);
		return -1;
	}
	copy = sieve_str_lower(v->script->pool, name, len);
	if (copy == NULL || !sieve_parray_grow(v->script->pool, (void **)&sc->names, &sc->alloc,
					       sc->count + 1, sizeof(*sc->names))) {
		(void)v_oom(v, line, col);
		return -1;
	}
	sc->names[sc->count] = copy;
	return (int)sc->count++;
}

int sieve_v_declare_local(struct sieve_validator *v, const char *name, unsigned int line,
			  unsigned int col)
{
	return scope_declare(v, &v->script->locals, name, strlen(name), line, col, "");
}

int sieve_v_declare_global(struct sieve_validator *v, const char *name, unsigned int line,
			   unsigned int col)
{
	return scope_declare(v, &v->script->globals, name, strlen(name), line, col, "global");
}

/*
 * Resolves a variable name (without "${" "}") to a template part. Returns 1
 * resolved, 0 not a valid reference (kept literally), -1 error.
 */
static int var_resolve(struct sieve_validator *v, const char *name, size_t len,
		       struct sieve_tpart *part, unsigned int line, unsigned int col)
{
	const char *dot = memchr(name, '.', len);
	int idx;

	if (len == 0)
		return 0;
	if (isdigit((unsigned char)name[0])) {
		uint64_t n = 0;
		size_t i;

		for (i = 0; i < len; i++) {
			if (!isdigit((unsigned char)name[i]))
				return 0;
			if (n < 100000000)
				n = n * 10 + (uint64_t)(name[i] - '0');
		}
		if (n >= SIEVE_MAX_MATCH_VALUES) {
			sieve_v_error(v, line, col, "match value index %llu out of range (max: %u)",
				      (unsigned long long)n, SIEVE_MAX_MATCH_VALUES - 1);
			return -1;
		}
		part->type = SIEVE_TPART_MATCH;
		part->index = (unsigned int)n;
		return 1;
	}
	if (dot != NULL) {
		size_t nslen = (size_t)(dot - name);
		const char *rest = dot + 1;
		size_t restlen = len - nslen - 1;

		if (!sieve_valid_variable_name(name, nslen))
			return 0;
		if (nslen == 6 && strncasecmp(name, "global", 6) == 0 &&
		    sieve_v_ext(v, SIEVE_EXT_INCLUDE)) {
			if (memchr(rest, '.', restlen) != NULL) {
				sieve_v_error(v, line, col,
					      "invalid variable name within global namespace: "
					      "encountered sub-namespace");
				return -1;
			}
			if (restlen > 0 && isdigit((unsigned char)rest[0])) {
				sieve_v_error(v, line, col,
					      "invalid variable name within global namespace: "
					      "encountered numeric variable name");
				return -1;
			}
			if (!sieve_valid_variable_name(rest, restlen))
				return 0;
			idx = scope_declare(v, &v->script->globals, rest, restlen, line, col,
					    "global");
			if (idx < 0)
				return -1;
			part->type = SIEVE_TPART_GLOBAL;
			part->index = (unsigned int)idx;
			return 1;
		}
		/* Check the rest is syntactically a name before complaining. */
		if (restlen == 0)
			return 0;
		{
			size_t i = 0;

			while (i < restlen) {
				size_t j = i;

				while (j < restlen && rest[j] != '.')
					j++;
				if (!sieve_valid_variable_name(rest + i, j - i) &&
				    !(j > i && isdigit((unsigned char)rest[i])))
					return 0;
				i = j + 1;
				if (j == restlen)
					break;
				if (i == restlen)
					return 0;
			}
		}
		sieve_v_error(v, line, col, "referring to variable in unknown namespace '%.*s'",
			      (int)nslen, name);
		return -1;
	}
	if (!sieve_valid_variable_name(name, len))
		return 0;
	idx = scope_find(&v->script->globals, name, len);
	if (idx >= 0) {
		part->type = SIEVE_TPART_GLOBAL;
		part->index = (unsigned int)idx;
		return 1;
	}
	idx = scope_declare(v, &v->script->locals, name, len, line, col, "");
	if (idx < 0)
		return -1;
	part->type = SIEVE_TPART_LOCAL;
	part->index = (unsigned int)idx;
	return 1;
}

static bool tparts_add(struct sieve_validator *v, struct sieve_tstr *t, unsigned int *alloc,
		       const struct sieve_tpart *part)
{
	if (!sieve_parray_grow(v->script->pool, (void **)&t->parts, alloc, t->parts_count + 1,
			       sizeof(*t->parts)))
		return v_oom(v, t->line, t->col);
	t->parts[t->parts_count++] = *part;
	return true;
}

static bool tstr_add_literal(struct sieve_validator *v, struct sieve_tstr *t, unsigned int *alloc,
			     const char *s, size_t len)
{
	struct sieve_tpart part;

	if (len == 0)
		return true;
	memset(&part, 0, sizeof(part));
	part.type = SIEVE_TPART_LITERAL;
	part.lit.s = sieve_pstrndup(v->script->pool, s, len);
	part.lit.len = len;
	if (part.lit.s == NULL)
		return v_oom(v, t->line, t->col);
	return tparts_add(v, t, alloc, &part);
}

static bool tstr_parse_vars(struct sieve_validator *v, struct sieve_tstr *t)
{
	const char *s = t->lit.s;
	size_t len = t->lit.len, i = 0, lit_start = 0;
	unsigned int alloc = 0;
	bool have_ref = false;

	while (i + 1 < len) {
		struct sieve_tpart part;
		const char *end;
		int ret;

		if (s[i] != '$' || s[i + 1] != '{') {
			i++;
			continue;
		}
		end = memchr(s + i + 2, '}', len - i - 2);
		if (end == NULL)
			break;
		memset(&part, 0, sizeof(part));
		ret = var_resolve(v, s + i + 2, (size_t)(end - (s + i + 2)), &part, t->line,
				  t->col);
		if (ret < 0) {
			/* Reported; treat as an empty value like Pigeonhole does. */
			return false;
		}
		if (ret == 0) {
			i++;
			continue;
		}
		if (!tstr_add_literal(v, t, &alloc, s + lit_start, i - lit_start) ||
		    !tparts_add(v, t, &alloc, &part))
			return false;
		have_ref = true;
		i = (size_t)(end - s) + 1;
		lit_start = i;
	}
	if (!have_ref)
		return true;
	return tstr_add_literal(v, t, &alloc, s + lit_start, len - lit_start);
}

bool sieve_v_tstr(struct sieve_validator *v, const struct sieve_ast_arg *arg, unsigned int i,
		  struct sieve_tstr *out)
{
	memset(out, 0, sizeof(*out));
	out->line = arg->str_lines != NULL ? arg->str_lines[i] : arg->line;
	out->col = arg->str_cols != NULL ? arg->str_cols[i] : arg->col;
	out->lit = arg->strs[i];
	if (sieve_v_ext(v, SIEVE_EXT_ENCODED_CHARACTER)) {
		if (!enc_char_decode(v, &arg->strs[i], &out->lit, out->line, out->col))
			return false;
	}
	if (sieve_v_ext(v, SIEVE_EXT_VARIABLES))
		return tstr_parse_vars(v, out);
	return true;
}

bool sieve_v_tlist(struct sieve_validator *v, const struct sieve_ast_arg *arg,
		   struct sieve_tlist *out)
{
	unsigned int i;
	bool ok = true;

	out->count = arg->count;
	out->items =
		p_malloc_array(v->script->pool, arg->count ? arg->count : 1, sizeof(*out->items));
	if (out->items == NULL)
		return v_oom(v, arg->line, arg->col);
	for (i = 0; i < arg->count; i++) {
		if (!sieve_v_tstr(v, arg, i, &out->items[i]))
			ok = false;
	}
	return ok;
}

bool sieve_v_regex_add(struct sieve_validator *v, regex_t *re)
{
	struct sieve_script *s = v->script;

	if (!sieve_parray_grow(s->pool, (void **)&s->regexes, &s->regexes_alloc,
			       s->regexes_count + 1, sizeof(*s->regexes)))
		return false;
	s->regexes[s->regexes_count++] = re;
	return true;
}

bool sieve_valid_header_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 32 || c >= 127 || c == ':')
			return false;
	}
	return true;
}

static const char *mt_name(enum sieve_mt mt)
{
	switch (mt) {
	case SIEVE_MT_IS:
		return "is";
	case SIEVE_MT_CONTAINS:
		return "contains";
	case SIEVE_MT_MATCHES:
		return "matches";
	case SIEVE_MT_REGEX:
		return "regex";
	case SIEVE_MT_VALUE:
		return "value";
	case SIEVE_MT_COUNT:
		return "count";
	}
	return "?";
}

static const char *cmp_name(enum sieve_cmp cmp)
{
	switch (cmp) {
	case SIEVE_CMP_OCTET:
		return "i;octet";
	case SIEVE_CMP_CASEMAP:
		return "i;ascii-casemap";
	case SIEVE_CMP_NUMERIC:
		return "i;ascii-numeric";
	}
	return "?";
}

bool sieve_v_match(struct sieve_validator *v, const struct sieve_ast_node *node,
		   struct sieve_args *args, const struct sieve_ast_arg *keyarg)
{
	struct sieve_match *m = &args->match;
	unsigned int i;

	if (m->cmp == SIEVE_CMP_NUMERIC &&
	    (m->mt == SIEVE_MT_CONTAINS || m->mt == SIEVE_MT_MATCHES)) {
		sieve_v_error(v, node->line, node->col,
			      "the specified %s comparator does not support sub-string matching "
			      "as required by the :%s match type",
			      cmp_name(m->cmp), mt_name(m->mt));
		return false;
	}
	if (m->mt == SIEVE_MT_REGEX && m->cmp == SIEVE_CMP_NUMERIC) {
		sieve_v_error(v, node->line, node->col,
			      "regex match type only supports i;octet and i;ascii-casemap "
			      "comparators");
		return false;
	}
	if (!sieve_v_tlist(v, keyarg, &m->keys))
		return false;
	if (m->mt == SIEVE_MT_REGEX) {
		m->regexes = p_malloc_array(v->script->pool, m->keys.count ? m->keys.count : 1,
					    sizeof(*m->regexes));
		if (m->regexes == NULL)
			return v_oom(v, node->line, node->col);
		for (i = 0; i < m->keys.count; i++) {
			const struct sieve_tstr *k = &m->keys.items[i];
			regex_t *re;
			int ret;

			if (!sieve_tstr_is_const(k))
				continue;
			if (sieve_regex_too_complex(k->lit.s)) {
				sieve_v_error(v, k->line, k->col,
					      "regular expression '%s' is too complex",
					      sieve_sanitize(v->script->pool, k->lit.s, 128));
				return false;
			}
			re = p_malloc(v->script->pool, sizeof(*re));
			if (re == NULL)
				return v_oom(v, node->line, node->col);
			ret = regcomp(re, k->lit.s, sieve_regex_flags(m->cmp));
			if (ret != 0) {
				char err[256];

				(void)regerror(ret, re, err, sizeof(err));
				sieve_v_error(v, k->line, k->col,
					      "invalid regular expression '%s' for regex match: %s",
					      sieve_sanitize(v->script->pool, k->lit.s, 128), err);
				return false;
			}
			if (!sieve_v_regex_add(v, re)) {
				regfree(re);
				return v_oom(v, node->line, node->col);
			}
			m->regexes[i] = re;
		}
	} else if (m->mt == SIEVE_MT_MATCHES) {
		m->globs = p_malloc_array(v->script->pool, m->keys.count ? m->keys.count : 1,
					  sizeof(*m->globs));
		if (m->globs == NULL)
			return v_oom(v, node->line, node->col);
		for (i = 0; i < m->keys.count; i++) {
			const struct sieve_tstr *k = &m->keys.items[i];

			if (!sieve_tstr_is_const(k))
				continue;
			m->globs[i] =
				sieve_glob_compile(v->script->pool, k->lit.s, k->lit.len, m->cmp);
			if (m->globs[i] == NULL)
				return v_oom(v, node->line, node->col);
		}
	}
	return true;
}

/*
 * Command lookup
 */

/* Command lookup by name: a small hash table built on first use. */
#define DEF_HASH_SIZE 256

struct def_entry {
	const struct sieve_cmd_def *def;
	struct def_entry *next;
};

static unsigned int name_hash(const char *name)
{
	unsigned int h = 5381;

	for (; *name != '\0'; name++)
		h = h * 33 + (unsigned int)tolower((unsigned char)*name);
	return h % DEF_HASH_SIZE;
}

static struct def_entry *def_bucket(const char *name)
{
	static struct def_entry *buckets[DEF_HASH_SIZE];
	static struct def_entry entries[512];
	static bool built;

	if (!built) {
		unsigned int t, i, n = 0;

		for (t = 0; t < sieve_cmd_tables_count; t++) {
			for (i = 0; i < *sieve_cmd_tables[t].count; i++) {
				const struct sieve_cmd_def *d = &sieve_cmd_tables[t].defs[i];
				unsigned int h = name_hash(d->name);

				if (n >= N_ELEMENTS(entries))
					panic("sieve: too many commands for the lookup table");
				entries[n].def = d;
				entries[n].next = buckets[h];
				buckets[h] = &entries[n++];
			}
		}
		built = true;
	}
	return buckets[name_hash(name)];
}

static const struct sieve_cmd_def *find_def(const char *name, enum sieve_cmd_kind kind,
					    bool *other_kind_r, int *ext_r)
{
	const struct sieve_cmd_def *found = NULL;
	const struct def_entry *e;

	*other_kind_r = false;
	*ext_r = -1;
	for (e = def_bucket(name); e != NULL; e = e->next) {
		const struct sieve_cmd_def *d = e->def;

		if (strcasecmp(d->name, name) != 0)
			continue;
		if (d->kind != kind) {
			*other_kind_r = true;
			continue;
		}
		/* Entries are pushed in reverse: keep the last one seen, which
		   is the first one registered. */
		found = d;
	}
	if (found != NULL)
		*ext_r = found->ext;
	return found;
}

static bool unknown_once(struct sieve_validator *v, const char *name)
{
	unsigned int i;

	for (i = 0; i < v->unknown_reported_count; i++) {
		if (strcasecmp(v->unknown_names[i], name) == 0)
			return false;
	}
	if (v->unknown_reported_count < N_ELEMENTS(v->unknown_names))
		v->unknown_names[v->unknown_reported_count++] = name;
	return true;
}

static const char *arg_type_name(const struct sieve_ast_arg *arg)
{
	switch (arg->type) {
	case SIEVE_ARG_NUMBER:
		return "number";
	case SIEVE_ARG_STRING:
		return "string";
	case SIEVE_ARG_STRLIST:
		return "string list";
	case SIEVE_ARG_TAG:
		return "tag";
	}
	return "argument";
}

static const char *param_name(enum sieve_param p)
{
	switch (p) {
	case SIEVE_PARAM_NUMBER:
		return "number";
	case SIEVE_PARAM_STRING:
		return "string";
	case SIEVE_PARAM_STRLIST:
		return "string list";
	case SIEVE_PARAM_NONE:
		break;
	}
	return "nothing";
}

static bool param_ok(enum sieve_param p, const struct sieve_ast_arg *arg)
{
	switch (p) {
	case SIEVE_PARAM_NUMBER:
		return arg->type == SIEVE_ARG_NUMBER;
	case SIEVE_PARAM_STRING:
		return arg->type == SIEVE_ARG_STRING;
	case SIEVE_PARAM_STRLIST:
		return arg->type == SIEVE_ARG_STRING || arg->type == SIEVE_ARG_STRLIST;
	case SIEVE_PARAM_NONE:
		break;
	}
	return false;
}

static const char *kind_name(const struct sieve_cmd_def *def)
{
	return def->kind == SIEVE_CMD_TEST ? "test" : "command";
}

static bool set_match_type(struct sieve_validator *v, const struct sieve_cmd_def *def,
			   struct sieve_args *args, const struct sieve_ast_arg *tag,
			   enum sieve_mt mt, bool *mt_seen)
{
	if (*mt_seen) {
		sieve_v_error(v, tag->line, tag->col,
			      "multiple match type arguments specified for the %s %s", def->name,
			      kind_name(def));
		return false;
	}
	*mt_seen = true;
	args->has_match = true;
	args->match.mt = mt;
	return true;
}

/* Handles a common tag; 1 handled, 0 not a common tag, -1 error. */
static int common_tag(struct sieve_validator *v, const struct sieve_ast_node *node,
		      const struct sieve_cmd_def *def, struct sieve_args *args, unsigned int *ip,
		      bool *mt_seen, bool *cmp_seen, bool *ap_seen)
{
	const struct sieve_ast_arg *tag = &node->args[*ip];
	const char *t = tag->tag;

	if ((def->common_tags & SIEVE_TAGS_MATCH) != 0) {
		enum sieve_mt mt = SIEVE_MT_IS;
		bool is_mt = true;

		if (strcasecmp(t, "is") == 0)
			mt = SIEVE_MT_IS;
		else if (strcasecmp(t, "contains") == 0)
			mt = SIEVE_MT_CONTAINS;
		else if (strcasecmp(t, "matches") == 0)
			mt = SIEVE_MT_MATCHES;
		else if (strcasecmp(t, "regex") == 0 && sieve_v_ext(v, SIEVE_EXT_REGEX))
			mt = SIEVE_MT_REGEX;
		else
			is_mt = false;
		if (is_mt)
			return set_match_type(v, def, args, tag, mt, mt_seen) ? 1 : -1;
		if ((strcasecmp(t, "value") == 0 || strcasecmp(t, "count") == 0) &&
		    sieve_v_ext(v, SIEVE_EXT_RELATIONAL)) {
			const struct sieve_ast_arg *p;
			static const char *const ops[] = {"gt", "ge", "lt", "le", "eq", "ne"};
			unsigned int k;

			if (!set_match_type(v, def, args, tag,
					    strcasecmp(t, "value") == 0 ? SIEVE_MT_VALUE
									: SIEVE_MT_COUNT,
					    mt_seen))
				return -1;
			if (*ip + 1 >= node->args_count ||
			    node->args[*ip + 1].type != SIEVE_ARG_STRING) {
				sieve_v_error(
					v, tag->line, tag->col,
					"the :%s match-type requires a constant string "
					"argument being one of \"gt\", \"ge\", \"lt\", \"le\", "
					"\"eq\" or \"ne\", but %s was found",
					t,
					*ip + 1 >= node->args_count
						? "none"
						: arg_type_name(&node->args[*ip + 1]));
				return -1;
			}
			p = &node->args[++*ip];
			for (k = 0; k < N_ELEMENTS(ops); k++) {
				if (p->strs[0].len == 2 && strcasecmp(p->strs[0].s, ops[k]) == 0)
					break;
			}
			if (k == N_ELEMENTS(ops)) {
				sieve_v_error(
					v, p->line, p->col,
					"the :%s match-type requires a constant string "
					"argument being one of \"gt\", \"ge\", \"lt\", \"le\", "
					"\"eq\" or \"ne\", but \"%s\" was found",
					t, sieve_sanitize(v->script->pool, p->strs[0].s, 64));
				return -1;
			}
			args->match.rel = (enum sieve_rel)k;
			return 1;
		}
		if (strcasecmp(t, "comparator") == 0) {
			const struct sieve_ast_arg *p;
			const char *c;

			if (*cmp_seen) {
				sieve_v_error(
					v, tag->line, tag->col,
					"multiple comparator arguments specified for the %s %s",
					def->name, kind_name(def));
				return -1;
			}
			*cmp_seen = true;
			if (*ip + 1 >= node->args_count ||
			    node->args[*ip + 1].type != SIEVE_ARG_STRING) {
				sieve_v_error(v, tag->line, tag->col,
					      "the :comparator tag requires one string argument, "
					      "but %s was found",
					      *ip + 1 >= node->args_count
						      ? "none"
						      : arg_type_name(&node->args[*ip + 1]));
				return -1;
			}
			p = &node->args[++*ip];
			c = p->strs[0].s;
			args->has_match = true;
			if (strcasecmp(c, "i;octet") == 0) {
				args->match.cmp = SIEVE_CMP_OCTET;
			} else if (strcasecmp(c, "i;ascii-casemap") == 0) {
				args->match.cmp = SIEVE_CMP_CASEMAP;
			} else if (strcasecmp(c, "i;ascii-numeric") == 0 &&
				   sieve_v_ext(v, SIEVE_EXT_CMP_NUMERIC)) {
				args->match.cmp = SIEVE_CMP_NUMERIC;
			} else {
				sieve_v_error(v, p->line, p->col, "unknown comparator '%s'",
					      sieve_sanitize(v->script->pool, c, 64));
				return -1;
			}
			return 1;
		}
	}
	if ((def->common_tags & SIEVE_TAGS_ADDRPART) != 0) {
		enum sieve_addrpart ap;
		bool is_ap = true;

		if (strcasecmp(t, "all") == 0)
			ap = SIEVE_AP_ALL;
		else if (strcasecmp(t, "localpart") == 0)
			ap = SIEVE_AP_LOCALPART;
		else if (strcasecmp(t, "domain") == 0)
			ap = SIEVE_AP_DOMAIN;
		else if (strcasecmp(t, "user") == 0 && sieve_v_ext(v, SIEVE_EXT_SUBADDRESS))
			ap = SIEVE_AP_USER;
		else if (strcasecmp(t, "detail") == 0 && sieve_v_ext(v, SIEVE_EXT_SUBADDRESS))
			ap = SIEVE_AP_DETAIL;
		else
			is_ap = false;
		if (is_ap) {
			if (*ap_seen) {
				sieve_v_error(v, tag->line, tag->col,
					      "multiple address part arguments specified for the "
					      "%s %s",
					      def->name, kind_name(def));
				return -1;
			}
			*ap_seen = true;
			args->addrpart = ap;
			return 1;
		}
	}
	if ((def->common_tags & SIEVE_TAGS_INDEX) != 0 && sieve_v_ext(v, SIEVE_EXT_INDEX)) {
		if (strcasecmp(t, "index") == 0) {
			const struct sieve_ast_arg *p;

			if (args->index > 0) {
				sieve_v_error(v, tag->line, tag->col,
					      "multiple :index arguments specified for the %s %s",
					      def->name, kind_name(def));
				return -1;
			}
			if (*ip + 1 >= node->args_count ||
			    node->args[*ip + 1].type != SIEVE_ARG_NUMBER) {
				sieve_v_error(v, tag->line, tag->col,
					      "the :index tag for the %s %s requires a number "
					      "argument, but %s was found",
					      def->name, kind_name(def),
					      *ip + 1 >= node->args_count
						      ? "none"
						      : arg_type_name(&node->args[*ip + 1]));
				return -1;
			}
			p = &node->args[++*ip];
			if (p->number == 0) {
				sieve_v_error(v, p->line, p->col,
					      "the :index tag for the %s %s requires a number "
					      "argument greater than zero",
					      def->name, kind_name(def));
				return -1;
			}
			args->index = p->number;
			return 1;
		}
		if (strcasecmp(t, "last") == 0) {
			args->last = true;
			return 1;
		}
	}
	return 0;
}

static bool validate_args(struct sieve_validator *v, struct sieve_ast_node *node,
			  const struct sieve_cmd_def *def, struct sieve_args *args)
{
	unsigned int i = 0, k;
	bool mt_seen = false, cmp_seen = false, ap_seen = false;

	memset(args, 0, sizeof(*args));
	args->match.cmp = SIEVE_CMP_CASEMAP;
	args->match.mt = SIEVE_MT_IS;
	args->addrpart = SIEVE_AP_ALL;
	for (; i < node->args_count && node->args[i].type == SIEVE_ARG_TAG; i++) {
		const struct sieve_ast_arg *tag = &node->args[i];
		int ret;

		for (k = 0; k < def->tags_count; k++) {
			const struct sieve_tag_def *td = &def->tags[k];

			if (strcasecmp(td->name, tag->tag) != 0)
				continue;
			if (td->ext >= 0 && !sieve_v_ext(v, (enum sieve_ext)td->ext))
				continue;
			break;
		}
		if (k < def->tags_count) {
			const struct sieve_tag_def *td = &def->tags[k];

			if (args->tag_set[k]) {
				sieve_v_error(
					v, tag->line, tag->col,
					"the :%s tag is specified more than once for the %s %s",
					td->name, def->name, kind_name(def));
				return false;
			}
			args->tag_set[k] = true;
			args->tag_pos[k] = tag;
			if (td->param != SIEVE_PARAM_NONE) {
				if (i + 1 >= node->args_count ||
				    !param_ok(td->param, &node->args[i + 1])) {
					sieve_v_error(v, tag->line, tag->col,
						      "the :%s tag for the %s %s requires a %s "
						      "argument, but %s was found",
						      td->name, def->name, kind_name(def),
						      param_name(td->param),
						      i + 1 >= node->args_count
							      ? "none"
							      : arg_type_name(&node->args[i + 1]));
					return false;
				}
				args->tag_arg[k] = &node->args[++i];
			}
			continue;
		}
		ret = common_tag(v, node, def, args, &i, &mt_seen, &cmp_seen, &ap_seen);
		if (ret < 0)
			return false;
		if (ret == 0) {
			sieve_v_error(v, tag->line, tag->col,
				      "unknown tagged argument ':%s' for the %s %s", tag->tag,
				      def->name, kind_name(def));
			return false;
		}
	}
	if (args->last && args->index == 0) {
		sieve_v_error(v, node->line, node->col,
			      "the :last tag for the %s %s requires :index tag to be specified "
			      "as well",
			      def->name, kind_name(def));
		return false;
	}
	for (; i < node->args_count; i++) {
		const struct sieve_ast_arg *arg = &node->args[i];

		if (arg->type == SIEVE_ARG_TAG) {
			sieve_v_error(v, arg->line, arg->col,
				      "tagged argument ':%s' of the %s %s must come before its "
				      "positional arguments",
				      arg->tag, def->name, kind_name(def));
			return false;
		}
		if (args->pos_count >= def->pos_max) {
			if (def->pos_max == 0) {
				sieve_v_error(v, arg->line, arg->col,
					      "the %s %s accepts no positional arguments, but %s "
					      "was found",
					      def->name, kind_name(def), arg_type_name(arg));
			} else {
				sieve_v_error(v, arg->line, arg->col,
					      "the %s %s accepts at most %u positional "
					      "argument(s), but more were found",
					      def->name, kind_name(def), def->pos_max);
			}
			return false;
		}
		if (!param_ok(def->pos[args->pos_count], arg)) {
			sieve_v_error(v, arg->line, arg->col,
				      "the %s %s expects a %s as %s argument (%s), but %s was "
				      "found",
				      def->name, kind_name(def),
				      param_name(def->pos[args->pos_count]),
				      args->pos_count == 0   ? "first"
				      : args->pos_count == 1 ? "second"
				      : args->pos_count == 2 ? "third"
							     : "fourth",
				      def->pos_names[args->pos_count] != NULL
					      ? def->pos_names[args->pos_count]
					      : "value",
				      arg_type_name(arg));
			return false;
		}
		args->pos[args->pos_count++] = arg;
	}
	if (args->pos_count < def->pos_min) {
		sieve_v_error(v, node->line, node->col,
			      "the %s %s requires %u positional argument(s), but %u %s found",
			      def->name, kind_name(def), def->pos_min, args->pos_count,
			      args->pos_count == 1 ? "was" : "were");
		return false;
	}
	return true;
}

static bool validate_node(struct sieve_validator *v, struct sieve_ast_node *node, bool top_level,
			  enum sieve_cmd_control prev);

static bool validate_block(struct sieve_validator *v, struct sieve_ast_node **cmds,
			   unsigned int count, bool top_level)
{
	enum sieve_cmd_control prev = SIEVE_CTRL_NONE;
	bool ok = true;
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (v->errs != NULL && v->errs->errors >= SIEVE_MAX_ERRORS)
			return false;
		if (!validate_node(v, cmds[i], top_level, prev))
			ok = false;
		prev = cmds[i]->def != NULL ? cmds[i]->def->control : SIEVE_CTRL_NONE;
		if (cmds[i]->def == NULL && cmds[i]->name != NULL &&
		    (strcasecmp(cmds[i]->name, "if") == 0 ||
		     strcasecmp(cmds[i]->name, "elsif") == 0))
			prev = SIEVE_CTRL_IF;
	}
	return ok;
}

static bool validate_require(struct sieve_validator *v, struct sieve_ast_node *node)
{
	const struct sieve_ast_arg *arg;
	unsigned int i;
	bool ok = true;

	if (node->args_count != 1 || node->tests_count > 0 ||
	    (node->args[0].type != SIEVE_ARG_STRING && node->args[0].type != SIEVE_ARG_STRLIST)) {
		sieve_v_error(v, node->line, node->col,
			      "the require command accepts a single string or string list "
			      "argument, but %s was found",
			      node->args_count == 0 ? "none" : arg_type_name(&node->args[0]));
		return false;
	}
	arg = &node->args[0];
	for (i = 0; i < arg->count; i++) {
		const char *name = arg->strs[i].s;
		enum sieve_ext ext;

		if (strlen(name) != arg->strs[i].len || !sieve_ext_lookup(name, &ext) ||
		    !v->script->set->extensions[ext]) {
			sieve_v_error(v, arg->str_lines[i], arg->str_cols[i],
				      "require command: unknown Sieve capability `%s'",
				      sieve_sanitize(v->script->pool, name, 80));
			ok = false;
			continue;
		}
		v->script->required[ext] = true;
		if (ext == SIEVE_EXT_VACATION_SECONDS)
			v->script->required[SIEVE_EXT_VACATION] = true;
		if (ext == SIEVE_EXT_SPAMTESTPLUS)
			v->script->required[SIEVE_EXT_SPAMTEST] = true;
	}
	return ok;
}

/*
 * For "if ihave ..." with constant capabilities: the supported ones become
 * usable (as if required, RFC 5463 section 4). Returns true when one is not
 * supported, so the guarded block must not be validated.
 */
static bool ihave_guard(struct sieve_validator *v, const struct sieve_ast_node *node)
{
	const struct sieve_ast_node *t;
	const struct sieve_ast_arg *arg;
	unsigned int i;
	bool missing = false;

	if (node->tests_count != 1)
		return false;
	t = node->tests[0];
	if (t->def == NULL || strcasecmp(t->name, "ihave") != 0 || t->args_count != 1)
		return false;
	arg = &t->args[0];
	for (i = 0; i < arg->count; i++) {
		enum sieve_ext ext;

		if (!sieve_ext_lookup(arg->strs[i].s, &ext) || !v->script->set->extensions[ext])
			missing = true;
	}
	if (missing)
		return true;
	for (i = 0; i < arg->count; i++) {
		enum sieve_ext ext;

		if (sieve_ext_lookup(arg->strs[i].s, &ext))
			v->script->required[ext] = true;
	}
	return false;
}

static bool validate_node(struct sieve_validator *v, struct sieve_ast_node *node, bool top_level,
			  enum sieve_cmd_control prev)
{
	enum sieve_cmd_kind kind = node->is_test ? SIEVE_CMD_TEST : SIEVE_CMD_COMMAND;
	const struct sieve_cmd_def *def;
	struct sieve_args args;
	bool other_kind, ok = true;
	int ext;
	unsigned int i;

	def = find_def(node->name, kind, &other_kind, &ext);
	if (def != NULL && def->control == SIEVE_CTRL_REQUIRE) {
		if (!top_level || v->require_done) {
			sieve_v_error(v, node->line, node->col,
				      "require commands can only be placed at top level at the "
				      "beginning of the file");
			return false;
		}
		node->def = def;
		return validate_require(v, node);
	}
	if (!node->is_test)
		v->require_done = true;
	if (def != NULL && def->ext >= 0 && !sieve_v_ext(v, (enum sieve_ext)def->ext))
		def = NULL;
	if (def == NULL) {
		if (unknown_once(v, node->name)) {
			if (other_kind) {
				sieve_v_error(v, node->line, node->col,
					      "'%s' is not a %s (it cannot be used here)",
					      node->name,
					      kind == SIEVE_CMD_TEST ? "test" : "command");
			} else if (ext >= 0) {
				sieve_v_error(v, node->line, node->col,
					      "unknown %s '%s' (maybe you need to require the "
					      "\"%s\" extension?)",
					      kind == SIEVE_CMD_TEST ? "test" : "command",
					      node->name, sieve_ext_name((enum sieve_ext)ext));
			} else {
				sieve_v_error(v, node->line, node->col,
					      "unknown %s '%s' (only reported once at first "
					      "occurrence)",
					      kind == SIEVE_CMD_TEST ? "test" : "command",
					      node->name);
			}
		} else {
			v->failed = true;
		}
		/* Still look inside blocks for more errors. */
		if (node->has_block)
			(void)validate_block(v, node->block, node->block_count, false);
		return false;
	}
	node->def = def;
	if ((def->control == SIEVE_CTRL_ELSIF || def->control == SIEVE_CTRL_ELSE) &&
	    prev != SIEVE_CTRL_IF && prev != SIEVE_CTRL_ELSIF) {
		sieve_v_error(v, node->line, node->col,
			      "the %s command must follow an if or elseif command", def->name);
		ok = false;
	}
	if (!validate_args(v, node, def, &args))
		ok = false;
	switch (def->subtests) {
	case SIEVE_SUBTESTS_NONE:
		if (node->tests_count > 0) {
			sieve_v_error(v, node->line, node->col, "the %s %s accepts no sub-tests",
				      def->name, kind_name(def));
			ok = false;
		}
		break;
	case SIEVE_SUBTESTS_ONE:
		if (node->tests_count != 1 || node->test_list) {
			sieve_v_error(v, node->line, node->col,
				      "the %s %s requires one test as its argument", def->name,
				      kind_name(def));
			ok = false;
		}
		break;
	case SIEVE_SUBTESTS_LIST:
		if (!node->test_list) {
			sieve_v_error(v, node->line, node->col,
				      "the %s %s requires a list of tests as its argument",
				      def->name, kind_name(def));
			ok = false;
		}
		break;
	}
	for (i = 0; i < node->tests_count; i++) {
		if (!validate_node(v, node->tests[i], false, SIEVE_CTRL_NONE))
			ok = false;
	}
	if (ok && (def->control == SIEVE_CTRL_IF || def->control == SIEVE_CTRL_ELSIF) &&
	    ihave_guard(v, node)) {
		/* RFC 5463: a block guarded by an unsupported capability is not
		   validated; the ihave test is false so it never runs. */
		return ok;
	}
	if (def->block && !node->has_block) {
		sieve_v_error(v, node->line, node->col, "the %s command requires a command block",
			      def->name);
		ok = false;
	} else if (!def->block && node->has_block) {
		sieve_v_error(v, node->line, node->col,
			      "the %s command does not accept a command block", def->name);
		ok = false;
	}
	if (node->has_block && !validate_block(v, node->block, node->block_count, false))
		ok = false;
	if (ok && def->validate != NULL && !def->validate(v, node, &args))
		ok = false;
	return ok;
}

bool sieve_validate(struct sieve_script *script, struct sieve_error_list *errs)
{
	struct sieve_validator v;

	memset(&v, 0, sizeof(v));
	v.script = script;
	v.errs = errs;
	(void)validate_block(&v, script->cmds, script->cmds_count, true);
	return !v.failed;
}
