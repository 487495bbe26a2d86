/*
 * libFuzzer harness for lib/passwd-file.c: the file parser (with default
 * and with tiny limits) and the passdb/userdb args parsers. Every accepted
 * entry must be found again by its name, and every refusal must name the
 * file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passwd-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_file(struct passwd_file *pf, char *error)
{
	size_t i, j;

	if (pf == NULL) {
		if (error == NULL || strncmp(error, "fuzz:", 5) != 0)
			abort();
		free(error);
		return;
	}
	for (i = 0; i < passwd_file_count(pf); i++) {
		const struct passwd_file_entry *e = passwd_file_entry_at(pf, i);

		if (e == NULL || e->user[0] == '\0' || passwd_file_lookup(pf, e->user) != e)
			abort();
		for (j = 0; j < e->field_count; j++) {
			if (passwd_file_entry_get(e, e->fields[j].key) == NULL)
				abort();
		}
		(void)passwd_file_entry_get(e, "nologin");
	}
	if (passwd_file_entry_at(pf, i) != NULL)
		abort();
	passwd_file_free(&pf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passwd_file_limits tiny = {
		.line_max = 64, .entries_max = 4, .size_max = 512, .fields_max = 3};
	char *error = NULL, *args;
	struct passwd_file *pf;

	pf = passwd_file_parse("fuzz", data, size, NULL, &error);
	check_file(pf, error);
	error = NULL;
	pf = passwd_file_parse("fuzz", data, size, &tiny, &error);
	check_file(pf, error);

	/* The same bytes as an args string, up to the first NUL. */
	args = malloc(size + 1);
	memcpy(args, data, size);
	args[size] = '\0';

	struct passwd_file_args a;
	struct passwd_file_static_args s;

	if (passwd_file_args_parse(args, &a, &error)) {
		if (a.path == NULL || a.path[0] != '/')
			abort();
		passwd_file_args_free(&a);
	} else {
		free(error);
	}
	if (passwd_file_static_args_parse(args, &s, &error))
		passwd_file_static_args_free(&s);
	else
		free(error);
	free(args);
	return 0;
}
