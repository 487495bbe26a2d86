/*
 * mail_location parsing and %-expansion (see mail-location.h). Runs in the
 * mail processes once per session. The template is the administrator's; the
 * user name and domain are substituted only after checks that keep them
 * from adding path components.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mail-location.h"
#include "xalloc.h"

enum var_id {
	VAR_USER,
	VAR_USERNAME,
	VAR_DOMAIN,
	VAR_HOME,
};

static const struct {
	const char *long_name;
	char letter;
	enum var_id id;
} location_vars[] = {
	{"user", 'u', VAR_USER},
	{"username", 'n', VAR_USERNAME},
	{"domain", 'd', VAR_DOMAIN},
	{"home", 'h', VAR_HOME},
};

/* Fetches a variable's raw value as (pointer, length); false if unknown or
   unavailable (no home). */
static bool var_value(enum var_id id, const struct mail_location_vars *vars, const char **v_r,
		      size_t *len_r, struct mailbox_error *err)
{
	const char *user = vars->user != NULL ? vars->user : "";
	const char *at = strchr(user, '@');

	switch (id) {
	case VAR_USER:
		*v_r = user;
		*len_r = strlen(user);
		break;
	case VAR_USERNAME:
		*v_r = user;
		*len_r = at != NULL ? (size_t)(at - user) : strlen(user);
		break;
	case VAR_DOMAIN:
		*v_r = at != NULL ? at + 1 : "";
		*len_r = strlen(*v_r);
		break;
	case VAR_HOME:
		if (vars->home == NULL || vars->home[0] != '/')
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location uses %%h but the user has no "
						 "absolute home directory");
		*v_r = vars->home;
		*len_r = strlen(vars->home);
		return true;
	}
	/* User-derived values become one path component at most. */
	if ((*len_r == 1 && (*v_r)[0] == '.') ||
	    (*len_r == 2 && (*v_r)[0] == '.' && (*v_r)[1] == '.'))
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "user name or domain is \".\" or \"..\": refusing to "
					 "use it in a path");
	for (size_t i = 0; i < *len_r; i++) {
		unsigned char c = (unsigned char)(*v_r)[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "user name or domain contains '/' or a control "
						 "character: refusing to use it in a path");
	}
	return true;
}

/* Parses an unsigned decimal number of at most 4 digits. */
static bool parse_small_num(const char **p, int *n_r)
{
	int n = 0, digits = 0;

	while (isdigit((unsigned char)**p)) {
		if (++digits > 4)
			return false;
		n = n * 10 + (**p - '0');
		(*p)++;
	}
	*n_r = n;
	return digits > 0;
}

static bool expand_var(const char **pp, const struct mail_location_vars *vars, struct buf *out,
		       struct mailbox_error *err)
{
	const char *p = *pp;
	bool have_offset = false, have_width = false, negative = false;
	bool lower = false, upper = false;
	int offset = 0, width = 0;
	const char *value = "";
	size_t len = 0, start, count;
	bool found = false;
	enum var_id id = VAR_USER;

	/* [-]N or [-]N.M: first N characters, or M characters from offset N. */
	if (*p == '-') {
		negative = true;
		p++;
	}
	if (isdigit((unsigned char)*p)) {
		if (!parse_small_num(&p, &offset))
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: number too long after '%%'");
		have_offset = true;
		if (*p == '.') {
			p++;
			if (!parse_small_num(&p, &width))
				return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
							 "mail_location: missing width after '.'");
			have_width = true;
		}
	} else if (negative) {
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mail_location: '-' must be followed by a number");
	}
	for (;; p++) {
		if (*p == 'L')
			lower = true;
		else if (*p == 'U')
			upper = true;
		else
			break;
	}
	if (*p == '{') {
		const char *end = strchr(p, '}');

		if (end == NULL)
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: unterminated %%{");
		for (size_t i = 0; i < N_ELEMENTS(location_vars); i++) {
			size_t n = strlen(location_vars[i].long_name);

			if ((size_t)(end - p - 1) == n &&
			    memcmp(p + 1, location_vars[i].long_name, n) == 0) {
				id = location_vars[i].id;
				found = true;
			}
		}
		if (!found)
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: unknown variable %%%.*s",
						 (int)(end - p + 1), p);
		p = end + 1;
	} else {
		for (size_t i = 0; i < N_ELEMENTS(location_vars); i++) {
			if (*p == location_vars[i].letter) {
				id = location_vars[i].id;
				found = true;
			}
		}
		if (!found) {
			if (*p == '\0')
				return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
							 "mail_location: '%%' at end of string");
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: unknown variable %%%c", *p);
		}
		p++;
	}
	if (!var_value(id, vars, &value, &len, err))
		return false;
	start = 0;
	count = len;
	if (have_offset && !have_width) {
		/* %Nx: the first N characters (the last N with '-'). */
		count = (size_t)offset < len ? (size_t)offset : len;
		if (negative)
			start = len - count;
	} else if (have_offset) {
		size_t off = (size_t)offset < len ? (size_t)offset : len;

		start = negative ? len - off : off;
		count = (size_t)width < len - start ? (size_t)width : len - start;
	}
	for (size_t i = 0; i < count; i++) {
		unsigned char c = (unsigned char)value[start + i];

		if (lower)
			c = (unsigned char)tolower(c);
		else if (upper)
			c = (unsigned char)toupper(c);
		if (!buf_append_c(out, c))
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: expanded path too long");
	}
	*pp = p;
	return true;
}

bool mail_location_expand(const char *tmpl, const struct mail_location_vars *vars, struct buf *out,
			  struct mailbox_error *err)
{
	const char *p = tmpl;

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		if (vars->home == NULL || vars->home[0] != '/')
			return mailbox_error_set(
				err, MAILBOX_ERROR_PARAMS,
				"mail_location uses ~ but the user has no absolute "
				"home directory");
		if (!buf_append_str(out, vars->home))
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: expanded path too long");
		p++;
	} else if (p[0] == '~') {
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mail_location: ~user paths are not supported");
	}
	while (*p != '\0') {
		if (*p != '%') {
			if (!buf_append_c(out, (uint8_t)*p))
				return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
							 "mail_location: expanded path too long");
			p++;
			continue;
		}
		p++;
		if (*p == '%') {
			if (!buf_append_c(out, '%'))
				return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
							 "mail_location: expanded path too long");
			p++;
			continue;
		}
		if (!expand_var(&p, vars, out, err))
			return false;
	}
	return true;
}

/* Checks an expanded path: absolute, not "/", no "." or ".." components,
   no control characters. Strips trailing slashes in place. */
static bool check_path(const char *what, struct buf *path, struct mailbox_error *err)
{
	const char *s = buf_cstr(path);
	size_t len = buf_len(path);

	if (strlen(s) != len)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "mail_location: %s has a NUL",
					 what);
	if (len == 0 || s[0] != '/')
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mail_location: %s path is not absolute: %s", what, s);
	while (len > 1 && s[len - 1] == '/')
		len--;
	buf_truncate(path, len);
	if (len == 1)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mail_location: %s must not be the root directory", what);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mail_location: %s has a control character", what);
		if (c == '/' && s[i + 1] == '.' &&
		    (s[i + 2] == '/' || s[i + 2] == '\0' ||
		     (s[i + 2] == '.' && (s[i + 3] == '/' || s[i + 3] == '\0'))))
			return mailbox_error_set(
				err, MAILBOX_ERROR_PARAMS,
				"mail_location: %s has a '.' or '..' component: %s", what, s);
	}
	if (len > MAIL_LOCATION_PATH_MAX)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mail_location: %s path too long", what);
	return true;
}

/* Takes the next ':'-separated field of spec, turning "::" into ':'. */
static bool next_field(const char **pp, struct buf *field)
{
	const char *p = *pp;

	buf_reset(field);
	for (;;) {
		if (*p == '\0')
			break;
		if (*p == ':') {
			if (p[1] == ':') {
				if (!buf_append_c(field, ':'))
					return false;
				p += 2;
				continue;
			}
			p++;
			break;
		}
		if (!buf_append_c(field, (uint8_t)*p))
			return false;
		p++;
	}
	*pp = p;
	return true;
}

static bool expand_field(const char *what, const char *value, const struct mail_location_vars *vars,
			 char **path_r, struct mailbox_error *err)
{
	struct buf path = BUF_INIT(MAIL_LOCATION_PATH_MAX + 1);

	if (!mail_location_expand(value, vars, &path, err) || !check_path(what, &path, err)) {
		buf_free(&path);
		return false;
	}
	*path_r = i_strdup(buf_cstr(&path));
	buf_free(&path);
	return true;
}

bool mail_location_parse(const char *spec, const struct mail_location_vars *vars,
			 struct mail_location **loc_r, struct mailbox_error *err)
{
	struct mail_location *loc;
	struct buf field = BUF_INIT(MAIL_LOCATION_MAX_LEN);
	const char *p;
	bool ok = false;

	*loc_r = NULL;
	if (strlen(spec) > MAIL_LOCATION_MAX_LEN)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "mail_location is too long");
	if (strncmp(spec, "maildir:", 8) != 0)
		return mailbox_error_set(
			err, MAILBOX_ERROR_PARAMS,
			"mail_location must start with \"maildir:\" (got \"%.64s\")", spec);
	loc = i_calloc(1, sizeof(*loc));
	p = spec + 8;
	if (!next_field(&p, &field))
		goto out;
	if (buf_len(&field) == 0) {
		mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "mail_location has an empty path");
		goto out;
	}
	if (!expand_field("root", buf_cstr(&field), vars, &loc->root, err))
		goto out;
	while (*p != '\0') {
		const char *f, *eq;

		if (!next_field(&p, &field))
			goto out;
		f = buf_cstr(&field);
		if (*f == '\0')
			continue;
		eq = strchr(f, '=');
		if (eq == NULL) {
			mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					  "mail_location: \"%.64s\" is not KEY=VALUE", f);
			goto out;
		}
		if (strncmp(f, "INDEX=", 6) == 0) {
			free(loc->index_dir);
			loc->index_dir = NULL;
			loc->index_memory = strcmp(eq + 1, "MEMORY") == 0;
			if (!loc->index_memory &&
			    !expand_field("INDEX", eq + 1, vars, &loc->index_dir, err))
				goto out;
		} else if (strncmp(f, "CONTROL=", 8) == 0) {
			free(loc->control_dir);
			loc->control_dir = NULL;
			if (!expand_field("CONTROL", eq + 1, vars, &loc->control_dir, err))
				goto out;
		} else if (strncmp(f, "INBOX=", 6) == 0) {
			free(loc->inbox);
			loc->inbox = NULL;
			if (!expand_field("INBOX", eq + 1, vars, &loc->inbox, err))
				goto out;
		} else if (strncmp(f, "LAYOUT=", 7) == 0) {
			if (strcasecmp(eq + 1, "fs") == 0) {
				loc->layout = MAIL_LAYOUT_FS;
			} else if (strcasecmp(eq + 1, "maildir++") == 0) {
				loc->layout = MAIL_LAYOUT_MAILDIRPP;
			} else {
				mailbox_error_set(
					err, MAILBOX_ERROR_PARAMS,
					"mail_location: unknown LAYOUT=%.32s (use maildir++ "
					"or fs)",
					eq + 1);
				goto out;
			}
		} else {
			mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					  "mail_location: unsupported setting %.*s", (int)(eq - f),
					  f);
			goto out;
		}
	}
	ok = true;
out:
	buf_free(&field);
	if (!ok) {
		mail_location_free(&loc);
		return false;
	}
	*loc_r = loc;
	return true;
}

void mail_location_free(struct mail_location **loc)
{
	if (*loc == NULL)
		return;
	free((*loc)->root);
	free((*loc)->inbox);
	free((*loc)->index_dir);
	free((*loc)->control_dir);
	I_FREE(*loc);
}

/* mkdir -p, quietly: the caller's store reports what is still missing. */
static void mkdir_parents(const char *path)
{
	char tmp[MAIL_LOCATION_PATH_MAX + 1];
	struct stat st;

	if (path == NULL || path[0] != '/' || stat(path, &st) == 0 ||
	    !str_copy(tmp, sizeof(tmp), path))
		return;
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return;
		*p = '/';
	}
	(void)mkdir(tmp, 0700);
}

void mail_location_mkdir_dirs(const struct mail_location *loc)
{
	mkdir_parents(loc->index_dir);
	mkdir_parents(loc->control_dir);
}
