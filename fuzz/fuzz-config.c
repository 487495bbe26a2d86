/*
 * libFuzzer harness for the configuration parser and the typed settings
 * built on it (settings_read_text: what every child parses from master),
 * plus the round trip through settings_write.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *error = NULL;
	struct roost_settings *set =
		settings_read_text("fuzz.conf", (const char *)data, size, &error);

	if (set == NULL) {
		/* Every refusal names the file and line. */
		if (error == NULL || strncmp(error, "fuzz.conf:", 10) != 0)
			abort();
		free(error);
		return 0;
	}
	struct buf out = BUF_INIT(64 * 1024 * 1024);
	settings_write(&out, set, false, true);
	struct roost_settings *again =
		settings_read_text("flat", buf_cstr(&out), buf_len(&out), &error);
	/* What master writes for a child must always parse back. */
	if (again == NULL)
		abort();
	settings_free(&again);
	buf_free(&out);
	settings_free(&set);
	return 0;
}
