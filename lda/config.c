/*
 * roost-lda's configuration: roost.conf as master reads it, with the -o
 * overrides of the command line applied on top as a final `protocol lda { }`
 * block. Runs in roost-lda before the sandbox; the file and the command
 * line come from the administrator and the MTA, both trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "config-parser.h"
#include "lda.h"
#include "xalloc.h"

#define LDA_OVERRIDE_TEXT_MAX (256 * 1024)

/* Appends "protocol lda { NAME = VALUE }" (or a plugin { } inside it). */
static bool override_append(struct buf *out, const char *override)
{
	const char *eq = strchr(override, '=');
	const char *name = override;
	size_t name_len = (size_t)(eq - override);
	bool plugin = false;

	if (name_len > 7 && strncmp(name, "plugin/", 7) == 0) {
		plugin = true;
		name += 7;
		name_len -= 7;
	}
	while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
		name_len--;
	if (name_len == 0)
		return false;
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '/'))
			return false;
	}
	eq++;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	(void)buf_append_str(out, "protocol lda {\n");
	if (plugin)
		(void)buf_append_str(out, "plugin {\n");
	(void)buf_append(out, name, name_len);
	(void)buf_append_str(out, " = ");
	config_write_value(out, eq);
	(void)buf_append_c(out, '\n');
	if (plugin)
		(void)buf_append_str(out, "}\n");
	return buf_append_str(out, "}\n");
}

struct roost_settings *lda_settings_read(const char *path, const char *const *overrides,
					 unsigned int override_count, char **error_r)
{
	struct roost_settings *set = settings_read_file(path, error_r), *merged;
	/* Room for the largest file roost.conf may be, written out again. */
	struct buf text = BUF_INIT(4 * CONFIG_MAX_FILE_SIZE);
	bool ok = true;

	if (set == NULL || override_count == 0)
		return set;
	/* Check each override alone first, so an error names it. */
	for (unsigned int i = 0; i < override_count; i++) {
		struct buf one = BUF_INIT(LDA_OVERRIDE_TEXT_MAX);
		struct roost_settings *check = NULL;
		char *error = NULL;

		if (override_append(&one, overrides[i]))
			check = settings_read_text("-o", buf_cstr(&one), buf_len(&one), &error);
		buf_free(&one);
		if (check == NULL) {
			struct buf msg = BUF_INIT(4096);

			(void)buf_printf(&msg, "Invalid -o %s: %s", overrides[i],
					 error != NULL ? error : "not NAME=VALUE");
			free(error);
			*error_r = i_strdup(buf_cstr(&msg));
			buf_free(&msg);
			settings_free(&set);
			return NULL;
		}
		settings_free(&check);
	}
	settings_write(&text, set, true, true);
	for (unsigned int i = 0; i < override_count; i++)
		ok = ok && override_append(&text, overrides[i]);
	if (ok)
		merged = settings_read_text(path, buf_cstr(&text), buf_len(&text), error_r);
	else {
		merged = NULL;
		*error_r = i_strdup("The configuration is too large to apply -o overrides");
	}
	buf_free(&text);
	settings_free(&set);
	return merged;
}
