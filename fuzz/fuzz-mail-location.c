/*
 * libFuzzer harness for mail_location parsing: input is "SPEC\nUSER\nHOME".
 * Anything is either refused or gives absolute paths with no "." or ".."
 * components and no control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/mail-location.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
	if (p == NULL)
		return;
	if (p[0] != '/' || strstr(p, "/../") != NULL || strstr(p, "/./") != NULL)
		abort();
	for (const char *c = p; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20)
			abort();
	}
	size_t n = strlen(p);

	if ((n >= 3 && strcmp(p + n - 3, "/..") == 0) || (n >= 2 && strcmp(p + n - 2, "/.") == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *user, *home;
	struct mail_location_vars vars;
	struct mail_location *loc;
	struct mailbox_error err;

	memcpy(copy, data, size);
	copy[size] = '\0';
	user = strchr(copy, '\n');
	if (user != NULL)
		*user++ = '\0';
	home = user != NULL ? strchr(user, '\n') : NULL;
	if (home != NULL)
		*home++ = '\0';
	vars.user = user != NULL ? user : "jdoe@example.com";
	vars.home = home;
	if (mail_location_parse(copy, &vars, &loc, &err)) {
		check_path(loc->root);
		check_path(loc->index_dir);
		check_path(loc->control_dir);
		check_path(loc->inbox);
		mail_location_free(&loc);
	}
	free(copy);
	return 0;
}
