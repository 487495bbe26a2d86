/*
 * libFuzzer harness for the Sieve parser and validator: compiles arbitrary
 * script text with every extension enabled, checking that a failed compile
 * always reports at least one error and a successful one none.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../lda/sieve/sieve-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sieve_settings *settings(void)
{
	static struct sieve_settings *set;
	unsigned int i;

	if (set == NULL) {
		set = sieve_settings_create();
		for (i = 0; i < SIEVE_EXT_COUNT; i++)
			set->extensions[i] = true;
	}
	return set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_error_list errs;
	struct sieve_script *script;

	sieve_error_list_init(&errs);
	script = sieve_compile(settings(), "fuzz", data, size, &errs);
	if (script == NULL && errs.errors == 0)
		abort();
	if (script != NULL && errs.errors != 0)
		abort();
	sieve_script_free(&script);
	sieve_error_list_free(&errs);
	return 0;
}
