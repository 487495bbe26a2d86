/*
 * libFuzzer harness for lib/auth-vars.c. Input: "TEMPLATE\nUSER\nHOME".
 * Expansion with and without the path rules, user-name normalization and
 * recipient-delimiter splitting; a path result must never hold a ".."
 * component, whatever the user name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth-vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_dotdot(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash == NULL ? strlen(p) : (size_t)(slash - p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (slash == NULL)
			return false;
		p = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *tmpl, *user, *home, *nl;
	struct buf out = BUF_INIT(2 * AUTH_VARS_OUTPUT_MAX), u = BUF_INIT(1024), d = BUF_INIT(1024);
	const char *error;

	memcpy(copy, data, size);
	copy[size] = '\0';
	tmpl = copy;
	nl = strchr(tmpl, '\n');
	user = nl == NULL ? tmpl + strlen(tmpl) : nl + 1;
	if (nl != NULL)
		*nl = '\0';
	nl = strchr(user, '\n');
	home = nl == NULL ? NULL : nl + 1;
	if (nl != NULL)
		*nl = '\0';

	struct auth_vars vars = {.user = user, .home = home, .service = "imap", .rip = "::1"};

	if (auth_vars_expand(&out, tmpl, &vars, 0, &error)) {
		if (buf_len(&out) > AUTH_VARS_OUTPUT_MAX)
			abort();
	} else if (buf_len(&out) != 0) {
		abort();
	}
	buf_reset(&out);
	if (auth_vars_expand(&out, tmpl, &vars, AUTH_VARS_FLAG_PATH, &error)) {
		if (has_dotdot(buf_cstr(&out)) || strlen(buf_cstr(&out)) != buf_len(&out))
			abort();
	}

	struct auth_user_settings set = {.default_realm = "example.com"};
	struct auth_user_settings any = {.username_chars = "", .username_format = tmpl};

	buf_reset(&out);
	if (auth_user_normalize(user, strlen(user), &set, &out, &error) &&
	    (buf_len(&out) == 0 || buf_len(&out) > AUTH_USER_MAX_LEN))
		abort();
	buf_reset(&out);
	(void)auth_user_normalize(user, strlen(user), &any, &out, &error);
	(void)auth_user_normalize((const char *)data, size, &set, &out, &error);

	int r = auth_user_split_detail(user, "+-", &u, &d);

	if (r == 1 && buf_len(&u) + buf_len(&d) + 1 != strlen(user))
		abort();
	if (r == 0 && strcmp(buf_cstr(&u), user) != 0)
		abort();
	buf_free(&out);
	buf_free(&u);
	buf_free(&d);
	free(copy);
	return 0;
}
