/*
 * %-variable expansion and user-name normalization for roost-auth and
 * roost-lda. Templates are the administrator's; the values substituted
 * into them are user names a remote client chose, so every expansion is
 * bounded and path results are checked after substitution.
 */
#include <string.h>

#include "auth-vars.h"

/* Error strings that name the offending variable live here until the next call. */
static char error_buf[128];

/* Long names (%{name}) and their one-letter equivalents. */
static const struct {
	const char *name;
	char letter;
} long_names[] = {
	{"user", 'u'},	  {"username", 'n'}, {"domain", 'd'}, {"home", 'h'},
	{"service", 's'}, {"rip", 'r'},	     {"lip", 'l'},
};

static bool var_value(const struct auth_vars *vars, char letter, const char **value_r,
		      size_t *len_r)
{
	const char *user = vars->user, *at;

	switch (letter) {
	case 'u':
		*value_r = user;
		break;
	case 'n':
		if (user == NULL)
			return false;
		at = strchr(user, '@');
		*value_r = user;
		*len_r = at == NULL ? strlen(user) : (size_t)(at - user);
		return true;
	case 'd':
		if (user == NULL)
			return false;
		at = strchr(user, '@');
		*value_r = at == NULL ? "" : at + 1;
		break;
	case 'h':
		*value_r = vars->home;
		break;
	case 's':
		*value_r = vars->service;
		break;
	case 'r':
		*value_r = vars->rip;
		break;
	case 'l':
		*value_r = vars->lip;
		break;
	default:
		return false;
	}
	if (*value_r == NULL)
		return false;
	*len_r = strlen(*value_r);
	return true;
}

static bool parse_number(const char **p, size_t *n_r)
{
	size_t n = 0;

	if (**p < '0' || **p > '9')
		return false;
	while (**p >= '0' && **p <= '9') {
		/* Anything past the output limit behaves the same; stop counting there. */
		if (n < AUTH_VARS_OUTPUT_MAX)
			n = n * 10 + (size_t)(**p - '0');
		(*p)++;
	}
	*n_r = n;
	return true;
}

static bool fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return false;
}

static bool path_component_ok(const uint8_t *p, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
				return false;
			start = i + 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			return false;
		}
	}
	return true;
}

bool auth_vars_expand(struct buf *out, const char *tmpl, const struct auth_vars *vars,
		      enum auth_vars_flags flags, const char **error_r)
{
	size_t start = buf_len(out);
	const char *p = tmpl;
	bool ok = true;

	while (*p != '\0' && ok) {
		const char *pct = strchr(p, '%');
		size_t lit = pct == NULL ? strlen(p) : (size_t)(pct - p);

		if (!buf_append(out, p, lit)) {
			ok = fail(error_r, "Expansion is too long");
			break;
		}
		if (pct == NULL)
			break;
		p = pct + 1;
		if (*p == '%') {
			ok = buf_append_c(out, '%') || fail(error_r, "Expansion is too long");
			p++;
			continue;
		}

		size_t offset = 0, width = SIZE_MAX, n;
		bool lower = false, upper = false;
		char letter;

		if (parse_number(&p, &n)) {
			if (*p == '.') {
				p++;
				offset = n;
				if (!parse_number(&p, &width)) {
					ok = fail(error_r, "Bad %offset.width: width missing");
					break;
				}
			} else {
				width = n;
			}
		}
		for (;; p++) {
			if (*p == 'L')
				lower = true;
			else if (*p == 'U')
				upper = true;
			else
				break;
		}
		if (*p == '\0') {
			ok = fail(error_r, "Template ends inside a %-variable");
			break;
		}
		if (*p == '{') {
			const char *end = strchr(p + 1, '}');
			size_t i, name_len;

			if (end == NULL) {
				ok = fail(error_r, "Unterminated %{ in template");
				break;
			}
			name_len = (size_t)(end - p - 1);
			letter = '\0';
			for (i = 0; i < N_ELEMENTS(long_names); i++) {
				if (strlen(long_names[i].name) == name_len &&
				    memcmp(long_names[i].name, p + 1, name_len) == 0)
					letter = long_names[i].letter;
			}
			if (letter == '\0') {
				str_format(error_buf, sizeof(error_buf),
					   "Unknown variable %%{%.*s}",
					   (int)(name_len > 40 ? 40 : name_len), p + 1);
				ok = fail(error_r, error_buf);
				break;
			}
			p = end + 1;
		} else {
			letter = *p++;
		}

		const char *value;
		size_t value_len = 0, i;

		if (strchr("undhsrl", letter) == NULL) {
			str_format(error_buf, sizeof(error_buf), "Unknown variable %%%c", letter);
			ok = fail(error_r, error_buf);
			break;
		}
		if (!var_value(vars, letter, &value, &value_len)) {
			str_format(error_buf, sizeof(error_buf), "Variable %%%c has no value here",
				   letter);
			ok = fail(error_r, error_buf);
			break;
		}
		if ((flags & AUTH_VARS_FLAG_PATH) != 0 && strchr("und", letter) != NULL &&
		    memchr(value, '/', value_len) != NULL) {
			ok = fail(error_r, "User name contains '/' and the result is a path");
			break;
		}
		/* "@example.com" would turn /home/vmail/%d/%n into the whole domain's directory. */
		if ((flags & AUTH_VARS_FLAG_PATH) != 0 && (letter == 'u' || letter == 'n') &&
		    value_len == 0) {
			ok = fail(error_r, "User name part is empty and the result is a path");
			break;
		}
		if (offset >= value_len)
			value_len = 0;
		else {
			value += offset;
			value_len -= offset;
		}
		if (width < value_len)
			value_len = width;
		uint8_t *dst = buf_reserve(out, value_len);

		if (dst == NULL) {
			ok = fail(error_r, "Expansion is too long");
			break;
		}
		for (i = 0; i < value_len; i++) {
			char c = value[i];

			if (lower && c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			else if (upper && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			dst[i] = (uint8_t)c;
		}
		buf_commit(out, value_len);
		if (buf_len(out) - start > AUTH_VARS_OUTPUT_MAX)
			ok = fail(error_r, "Expansion is too long");
	}
	if (ok && buf_len(out) - start > AUTH_VARS_OUTPUT_MAX)
		ok = fail(error_r, "Expansion is too long");
	if (ok && (flags & AUTH_VARS_FLAG_PATH) != 0 &&
	    !path_component_ok(buf_data(out) + start, buf_len(out) - start))
		ok = fail(error_r, "Expanded path contains '..' or control characters");
	if (!ok)
		buf_truncate(out, start);
	return ok;
}

bool auth_user_normalize(const char *raw, size_t raw_len, const struct auth_user_settings *set,
			 struct buf *out, const char **error_r)
{
	const char *chars = set->username_chars, *format = set->username_format;
	const char *realm = set->default_realm;
	char user[AUTH_USER_MAX_LEN + 1 + AUTH_USER_MAX_LEN + 1];
	size_t i, start = buf_len(out);

	if (chars == NULL)
		chars = AUTH_USERNAME_CHARS_DEFAULT;
	if (format == NULL)
		format = AUTH_USERNAME_FORMAT_DEFAULT;
	if (raw_len == 0)
		return fail(error_r, "Empty user name");
	if (raw_len > AUTH_USER_MAX_LEN)
		return fail(error_r, "User name is too long");
	for (i = 0; i < raw_len; i++) {
		unsigned char c = (unsigned char)raw[i];

		/* Control bytes would forge log lines; refuse them whatever the settings. */
		if (c < 0x20 || c == 0x7f)
			return fail(error_r, "User name contains control characters");
		if (chars[0] != '\0' && strchr(chars, c) == NULL)
			return fail(error_r,
				    "Username character disallowed by auth_username_chars");
	}
	memcpy(user, raw, raw_len);
	user[raw_len] = '\0';
	if (realm != NULL && realm[0] != '\0' && memchr(raw, '@', raw_len) == NULL) {
		if (!str_append(user, sizeof(user), "@") ||
		    !str_append(user, sizeof(user), realm) || strlen(user) > AUTH_USER_MAX_LEN)
			return fail(error_r, "User name with default realm is too long");
	}
	if (format[0] == '\0') {
		if (!buf_append_str(out, user))
			return fail(error_r, "User name is too long");
	} else {
		struct auth_vars vars = {.user = user};

		if (!auth_vars_expand(out, format, &vars, 0, error_r))
			return false;
	}
	if (buf_len(out) == start) {
		buf_truncate(out, start);
		return fail(error_r, "User name is empty after auth_username_format");
	}
	if (buf_len(out) - start > AUTH_USER_MAX_LEN) {
		buf_truncate(out, start);
		return fail(error_r, "User name is too long after auth_username_format");
	}
	return true;
}

int auth_user_split_detail(const char *user, const char *delimiters, struct buf *user_r,
			   struct buf *detail_r)
{
	const char *at = strchr(user, '@');
	size_t local_len = at == NULL ? strlen(user) : (size_t)(at - user), i;
	size_t ustart = buf_len(user_r), dstart = buf_len(detail_r);

	if (delimiters != NULL && delimiters[0] != '\0') {
		/* From the second byte on: "+lists@x" keeps its name rather than becoming "@x". */
		for (i = 1; i < local_len; i++) {
			if (strchr(delimiters, user[i]) == NULL)
				continue;
			if (!buf_append(user_r, user, i) ||
			    (at != NULL && !buf_append_str(user_r, at)) ||
			    !buf_append(detail_r, user + i + 1, local_len - i - 1)) {
				buf_truncate(user_r, ustart);
				buf_truncate(detail_r, dstart);
				return -1;
			}
			return 1;
		}
	}
	return buf_append_str(user_r, user) ? 0 : -1;
}
