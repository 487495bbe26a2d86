/*
 * passwd-file reading and lookup for roost-auth and roostadm. The file is
 * read whole (bounded), split in place, and indexed by user name in a keyed
 * hash table. Lines are the administrator's, so a bad one refuses the file
 * with its line number instead of being skipped silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "passwd-file.h"
#include "password.h"
#include "xalloc.h"

struct passwd_file {
	char *path; /* NULL when parsed from memory */
	char *data; /* the file's bytes, split in place */
	size_t data_size;
	struct passwd_file_entry *entries;
	size_t entry_count;
	struct passwd_file_field *fields;
	size_t field_count;
	struct hash_table *users; /* user -> entry index + 1 */
	struct stat st;
};

ATTR_PRINTF(1, 2) static char *error_printf(const char *fmt, ...)
{
	struct buf b = BUF_INIT(1024);
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (!buf_vprintf(&b, fmt, ap))
		buf_append_str(&b, "(error message too long)");
	va_end(ap);
	s = i_strdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

static void limits_fill(struct passwd_file_limits *l, const struct passwd_file_limits *in)
{
	if (in != NULL)
		*l = *in;
	else
		memset(l, 0, sizeof(*l));
	if (l->line_max == 0)
		l->line_max = PASSWD_FILE_LINE_MAX;
	if (l->entries_max == 0)
		l->entries_max = PASSWD_FILE_ENTRIES_MAX;
	if (l->size_max == 0)
		l->size_max = PASSWD_FILE_SIZE_MAX;
	if (l->fields_max == 0)
		l->fields_max = PASSWD_FILE_FIELDS_MAX;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* A user name as a login could produce it: no whitespace, controls or separators. */
static bool user_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

struct parse_ctx {
	struct passwd_file *pf;
	struct passwd_file_limits limits;
	const char *name;
	size_t fields_alloc, entries_alloc;
	char *error;
};

static bool parse_error(struct parse_ctx *ctx, unsigned int line, const char *fmt, ...)
	ATTR_PRINTF(3, 4);

static bool parse_error(struct parse_ctx *ctx, unsigned int line, const char *fmt, ...)
{
	struct buf b = BUF_INIT(1024);
	va_list ap;

	if (line > 0)
		buf_printf(&b, "%s:%u: ", ctx->name, line);
	else
		buf_printf(&b, "%s: ", ctx->name);
	va_start(ap, fmt);
	if (!buf_vprintf(&b, fmt, ap))
		buf_append_str(&b, "(error message too long)");
	va_end(ap);
	ctx->error = i_strdup(buf_cstr(&b));
	buf_free(&b);
	return false;
}

/* Splits the space-separated extra fields; the strings stay in the line. */
static bool parse_extra(struct parse_ctx *ctx, unsigned int line, char *s,
			struct passwd_file_entry *e)
{
	struct passwd_file *pf = ctx->pf;
	size_t first = pf->field_count;

	while (*s != '\0') {
		char *tok, *eq, *k;

		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0')
			break;
		tok = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
		if (pf->field_count - first >= ctx->limits.fields_max)
			return parse_error(ctx, line, "More than %zu extra fields",
					   ctx->limits.fields_max);
		eq = strchr(tok, '=');
		if (eq != NULL)
			*eq = '\0';
		if (tok[0] == '\0')
			return parse_error(ctx, line, "Extra field without a name");
		for (k = tok; *k != '\0'; k++) {
			if (!key_char(*k))
				return parse_error(ctx, line, "Invalid extra field name: %.64s",
						   tok);
		}
		if (pf->field_count == ctx->fields_alloc) {
			ctx->fields_alloc = ctx->fields_alloc == 0 ? 64 : ctx->fields_alloc * 2;
			pf->fields =
				i_realloc_array(pf->fields, ctx->fields_alloc, sizeof(*pf->fields));
		}
		pf->fields[pf->field_count].key = tok;
		pf->fields[pf->field_count].value = eq == NULL ? NULL : eq + 1;
		pf->field_count++;
	}
	/* Indexes for now; they become pointers once the array stops moving. */
	e->fields = (const struct passwd_file_field *)(uintptr_t)first;
	e->field_count = pf->field_count - first;
	return true;
}

static bool parse_line(struct parse_ctx *ctx, unsigned int line, char *s, size_t len)
{
	struct passwd_file *pf = ctx->pf;
	struct passwd_file_entry *e;
	char *field[7], *p = s;
	size_t i, nfields = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return parse_error(ctx, line, "NUL byte in line");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return parse_error(ctx, line, "Control character in line");
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return true;

	/* Seven ':'-separated fields; everything after the seventh ':' is extra fields. */
	p = s;
	while (nfields < 7) {
		char *colon = strchr(p, ':');

		field[nfields++] = p;
		if (colon == NULL) {
			p = NULL;
			break;
		}
		*colon = '\0';
		p = colon + 1;
	}
	for (i = nfields; i < 7; i++)
		field[i] = NULL;

	if (field[0][0] == '\0')
		return parse_error(ctx, line, "Empty user name");
	if (!user_valid(field[0]))
		return parse_error(ctx, line,
				   "User name contains whitespace or control characters");
	if (pf->entry_count >= ctx->limits.entries_max)
		return parse_error(ctx, line, "More than %zu users", ctx->limits.entries_max);

	uintptr_t prev = (uintptr_t)hash_get(pf->users, field[0], strlen(field[0]));

	if (prev != 0)
		return parse_error(ctx, line, "User %.256s already defined at line %u", field[0],
				   pf->entries[prev - 1].line);
	if (pf->entry_count == ctx->entries_alloc) {
		ctx->entries_alloc = ctx->entries_alloc == 0 ? 64 : ctx->entries_alloc * 2;
		pf->entries =
			i_realloc_array(pf->entries, ctx->entries_alloc, sizeof(*pf->entries));
	}
	e = &pf->entries[pf->entry_count];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->user = field[0];
	e->password = field[1];
	e->uid = field[2];
	e->gid = field[3];
	e->gecos = field[4];
	e->home = field[5];
	e->shell = field[6];
	if (p != NULL && !parse_extra(ctx, line, p, e))
		return false;
	/* Empty fields read as absent. */
	if (e->password != NULL && e->password[0] == '\0')
		e->password = NULL;
	if (e->uid != NULL && e->uid[0] == '\0')
		e->uid = NULL;
	if (e->gid != NULL && e->gid[0] == '\0')
		e->gid = NULL;
	if (e->gecos != NULL && e->gecos[0] == '\0')
		e->gecos = NULL;
	if (e->home != NULL && e->home[0] == '\0')
		e->home = NULL;
	if (e->shell != NULL && e->shell[0] == '\0')
		e->shell = NULL;
	pf->entry_count++;
	hash_set(pf->users, e->user, strlen(e->user), (void *)(uintptr_t)pf->entry_count);
	return true;
}

/* Takes ownership of data (size bytes plus a NUL the caller put after them). */
static struct passwd_file *parse_owned(const char *name, char *data, size_t size,
				       const struct passwd_file_limits *limits, char **error_r)
{
	struct parse_ctx ctx;
	struct passwd_file *pf = i_calloc(1, sizeof(*pf));
	size_t pos = 0, i;
	unsigned int line = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.pf = pf;
	ctx.name = name;
	limits_fill(&ctx.limits, limits);
	pf->data = data;
	pf->data_size = size;
	pf->users = hash_create();
	if (size > ctx.limits.size_max) {
		parse_error(&ctx, 0, "File is larger than %zu bytes", ctx.limits.size_max);
		goto fail;
	}
	while (pos < size) {
		char *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl == NULL ? size - pos : (size_t)(nl - (data + pos));

		line++;
		if (len > 0 && data[pos + len - 1] == '\r')
			len--;
		if (len > ctx.limits.line_max) {
			parse_error(&ctx, line, "Line is longer than %zu bytes",
				    ctx.limits.line_max);
			goto fail;
		}
		data[pos + len] = '\0';
		if (!parse_line(&ctx, line, data + pos, len))
			goto fail;
		pos = nl == NULL ? size : (size_t)(nl - data) + 1;
	}
	for (i = 0; i < pf->entry_count; i++) {
		uintptr_t first = (uintptr_t)pf->entries[i].fields;

		pf->entries[i].fields = pf->entries[i].field_count == 0 ? NULL : pf->fields + first;
	}
	return pf;
fail:
	*error_r = ctx.error;
	passwd_file_free(&pf);
	return NULL;
}

struct passwd_file *passwd_file_parse(const char *name, const void *data, size_t size,
				      const struct passwd_file_limits *limits, char **error_r)
{
	struct passwd_file_limits l;
	char *copy;

	limits_fill(&l, limits);
	if (size > l.size_max) {
		*error_r = error_printf("%s: File is larger than %zu bytes", name, l.size_max);
		return NULL;
	}
	copy = i_malloc(size + 1);
	if (size > 0)
		memcpy(copy, data, size);
	copy[size] = '\0';
	return parse_owned(name, copy, size, limits, error_r);
}

struct passwd_file *passwd_file_read(const char *path, const struct passwd_file_limits *limits,
				     char **error_r)
{
	struct passwd_file_limits l;
	struct passwd_file *pf;
	struct stat st;
	size_t size = 0, alloc;
	char *data;
	int fd;

	limits_fill(&l, limits);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*error_r = error_printf("%s: open() failed: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = error_printf("%s: fstat() failed: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*error_r = error_printf("%s: Not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((uintmax_t)st.st_size > l.size_max) {
		*error_r = error_printf("%s: File is larger than %zu bytes", path, l.size_max);
		close(fd);
		return NULL;
	}
	/* The file may grow while we read; read up to one byte past the limit to see it. */
	alloc = (size_t)st.st_size + 1024;
	data = i_malloc(alloc + 1);
	for (;;) {
		ssize_t n;

		if (size == alloc) {
			if (alloc > l.size_max) {
				*error_r = error_printf("%s: File is larger than %zu bytes", path,
							l.size_max);
				goto fail;
			}
			alloc = alloc * 2 > l.size_max + 1 ? l.size_max + 1 : alloc * 2;
			data = i_realloc(data, alloc + 1);
		}
		n = read(fd, data + size, alloc - size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = error_printf("%s: read() failed: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	data[size] = '\0';
	pf = parse_owned(path, data, size, &l, error_r);
	if (pf != NULL) {
		pf->path = i_strdup(path);
		pf->st = st;
	}
	return pf;
fail:
	close(fd);
	free(data);
	return NULL;
}

void passwd_file_free(struct passwd_file **pfp)
{
	struct passwd_file *pf = *pfp;

	if (pf == NULL)
		return;
	*pfp = NULL;
	if (pf->users != NULL)
		hash_destroy(&pf->users);
	if (pf->data != NULL) {
		/* The data holds password hashes: do not leave them in freed memory. */
		explicit_bzero(pf->data, pf->data_size);
	}
	free(pf->data);
	free(pf->entries);
	free(pf->fields);
	free(pf->path);
	free(pf);
}

int passwd_file_changed(const struct passwd_file *pf, char **error_r)
{
	struct stat st;

	if (pf->path == NULL)
		return 0;
	if (stat(pf->path, &st) < 0) {
		*error_r = error_printf("%s: stat() failed: %s", pf->path, strerror(errno));
		return -1;
	}
	if (st.st_dev != pf->st.st_dev || st.st_ino != pf->st.st_ino ||
	    st.st_size != pf->st.st_size || st.st_mtim.tv_sec != pf->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != pf->st.st_mtim.tv_nsec ||
	    st.st_ctim.tv_sec != pf->st.st_ctim.tv_sec ||
	    st.st_ctim.tv_nsec != pf->st.st_ctim.tv_nsec)
		return 1;
	return 0;
}

const struct passwd_file_entry *passwd_file_lookup(const struct passwd_file *pf, const char *user)
{
	uintptr_t idx = (uintptr_t)hash_get(pf->users, user, strlen(user));

	return idx == 0 ? NULL : &pf->entries[idx - 1];
}

size_t passwd_file_count(const struct passwd_file *pf)
{
	return pf->entry_count;
}

const struct passwd_file_entry *passwd_file_entry_at(const struct passwd_file *pf, size_t i)
{
	return i < pf->entry_count ? &pf->entries[i] : NULL;
}

const char *passwd_file_entry_get(const struct passwd_file_entry *e, const char *key)
{
	const char *value = NULL;
	size_t i;

	for (i = 0; i < e->field_count; i++) {
		if (strcmp(e->fields[i].key, key) == 0)
			value = e->fields[i].value == NULL ? "" : e->fields[i].value;
	}
	return value;
}

/* Splits args at spaces into a NULL-terminated array of copies. */
static char **args_split(const char *args, size_t *count_r)
{
	size_t n = 0, alloc = 8;
	char **v = i_calloc(alloc, sizeof(*v));
	const char *p = args;

	while (*p != '\0') {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (n + 1 >= alloc) {
			alloc *= 2;
			v = i_realloc_array(v, alloc, sizeof(*v));
		}
		v[n++] = i_strndup(start, (size_t)(p - start));
	}
	v[n] = NULL;
	*count_r = n;
	return v;
}

static void args_split_free(char **v)
{
	size_t i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

bool passwd_file_args_parse(const char *args, struct passwd_file_args *r, char **error_r)
{
	size_t n, i;
	char **v = args_split(args, &n);

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		const char *tok = v[i];

		if (tok[0] == '/') {
			if (i + 1 != n) {
				*error_r = error_printf("passwd-file args: the path must come last "
							"(found %.64s after it)",
							v[i + 1]);
				goto fail;
			}
			r->path = i_strdup(tok);
		} else if (strncmp(tok, "scheme=", 7) == 0) {
			char name[PASSWORD_SCHEME_NAME_MAX + 1];

			if (!password_get_scheme("", tok + 7, name, sizeof(name))) {
				*error_r = error_printf("passwd-file args: Unknown scheme: %.64s",
							tok + 7);
				goto fail;
			}
			free(r->scheme);
			r->scheme = i_strdup(tok + 7);
		} else if (strncmp(tok, "username_format=", 16) == 0) {
			free(r->username_format);
			r->username_format = i_strdup(tok + 16);
		} else if (strchr(tok, '=') != NULL) {
			*error_r = error_printf("passwd-file args: Unknown option: %.64s", tok);
			goto fail;
		} else {
			*error_r = error_printf(
				"passwd-file args: the path must be absolute: %.256s", tok);
			goto fail;
		}
	}
	if (r->path == NULL) {
		*error_r = error_printf("passwd-file args: no file path given");
		goto fail;
	}
	args_split_free(v);
	return true;
fail:
	args_split_free(v);
	passwd_file_args_free(r);
	return false;
}

void passwd_file_args_free(struct passwd_file_args *args)
{
	I_FREE(args->path);
	I_FREE(args->scheme);
	I_FREE(args->username_format);
}

bool passwd_file_static_args_parse(const char *args, struct passwd_file_static_args *r,
				   char **error_r)
{
	size_t n, i;
	char **v = args_split(args, &n);

	memset(r, 0, sizeof(*r));
	r->fields = i_calloc(n + 1, sizeof(*r->fields));
	for (i = 0; i < n; i++) {
		char *tok = v[i], *eq = strchr(tok, '=');
		const char *value;

		if (eq == NULL || eq == tok) {
			*error_r = error_printf("static args: expected key=value, got: %.64s", tok);
			goto fail;
		}
		*eq = '\0';
		value = eq + 1;
		if (strcmp(tok, "uid") == 0) {
			free(r->uid);
			r->uid = i_strdup(value);
		} else if (strcmp(tok, "gid") == 0) {
			free(r->gid);
			r->gid = i_strdup(value);
		} else if (strcmp(tok, "home") == 0) {
			free(r->home);
			r->home = i_strdup(value);
		} else if (strcmp(tok, "allow_all_users") == 0) {
			if (strcmp(value, "yes") == 0)
				r->allow_all_users = true;
			else if (strcmp(value, "no") == 0)
				r->allow_all_users = false;
			else {
				*error_r = error_printf("static args: allow_all_users must be yes "
							"or no, not %.64s",
							value);
				goto fail;
			}
		} else {
			r->fields[r->field_count].key = i_strdup(tok);
			r->fields[r->field_count].value = i_strdup(value);
			r->field_count++;
		}
	}
	args_split_free(v);
	return true;
fail:
	args_split_free(v);
	passwd_file_static_args_free(r);
	return false;
}

void passwd_file_static_args_free(struct passwd_file_static_args *args)
{
	size_t i;

	for (i = 0; i < args->field_count; i++) {
		free((char *)args->fields[i].key);
		free((char *)args->fields[i].value);
	}
	I_FREE(args->fields);
	args->field_count = 0;
	I_FREE(args->uid);
	I_FREE(args->gid);
	I_FREE(args->home);
}

/* A decimal id; false for anything else (including overflow and "-1"). */
static bool parse_id(const char *s, unsigned long *id_r)
{
	unsigned long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (0xffffffffUL - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*id_r = v;
	return true;
}

/* getpwnam_r/getgrnam_r want a buffer of unknown size: grow it on ERANGE, to 1 MiB. */
#define NSS_BUF_MAX (1024 * 1024)

bool passwd_file_resolve_uid(const char *s, uid_t *uid_r, char **error_r)
{
	unsigned long id;
	struct passwd pw, *res = NULL;
	size_t size = 1024;
	char *b;
	int ret;

	if (s == NULL || s[0] == '\0') {
		*error_r = error_printf("Empty uid");
		return false;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		if (!parse_id(s, &id) || id == 0xffffffffUL) {
			*error_r = error_printf("Invalid uid: %.64s", s);
			return false;
		}
		*uid_r = (uid_t)id;
		return true;
	}
	for (;;) {
		b = i_malloc(size);
		ret = getpwnam_r(s, &pw, b, size, &res);
		if (ret != ERANGE || size >= NSS_BUF_MAX)
			break;
		free(b);
		size *= 2;
	}
	if (res == NULL) {
		*error_r = ret == 0 ? error_printf("Unknown user name for uid: %.64s", s)
				    : error_printf("getpwnam(%.64s) failed: %s", s, strerror(ret));
		free(b);
		return false;
	}
	*uid_r = pw.pw_uid;
	free(b);
	return true;
}

bool passwd_file_resolve_gid(const char *s, gid_t *gid_r, char **error_r)
{
	unsigned long id;
	struct group gr, *res = NULL;
	size_t size = 1024;
	char *b;
	int ret;

	if (s == NULL || s[0] == '\0') {
		*error_r = error_printf("Empty gid");
		return false;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		if (!parse_id(s, &id) || id == 0xffffffffUL) {
			*error_r = error_printf("Invalid gid: %.64s", s);
			return false;
		}
		*gid_r = (gid_t)id;
		return true;
	}
	for (;;) {
		b = i_malloc(size);
		ret = getgrnam_r(s, &gr, b, size, &res);
		if (ret != ERANGE || size >= NSS_BUF_MAX)
			break;
		free(b);
		size *= 2;
	}
	if (res == NULL) {
		*error_r = ret == 0 ? error_printf("Unknown group name for gid: %.64s", s)
				    : error_printf("getgrnam(%.64s) failed: %s", s, strerror(ret));
		free(b);
		return false;
	}
	*gid_r = gr.gr_gid;
	free(b);
	return true;
}
