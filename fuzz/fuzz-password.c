/*
 * libFuzzer harness for lib/password.c. Input: "DEFAULT-SCHEME\nSTORED\n
 * PLAINTEXT". Stored-hash parsing and decoding, digest/PLAIN/SCRAM
 * verification, SASLprep and generation are exercised; crypt(3) hashes are
 * only shape-checked, since verifying them runs libxcrypt with whatever cost
 * the input names (a bcrypt cost of 31 is a valid, very slow, hash).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const cheap_schemes[] = {
	"PLAIN", "SHA256", "SHA512", "SSHA", "SSHA256", "SSHA512", "PLAIN-MD5", "SHA256.HEX",
};

static bool is_crypt(const char *name)
{
	return strcmp(name, "CRYPT") == 0 || strstr(name, "-CRYPT") != NULL ||
	       strcmp(name, "YESCRYPT") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *def, *stored, *plain, *nl;
	char scheme[PASSWORD_SCHEME_NAME_MAX + 1];
	const char *error;
	struct password_scram sc;
	enum password_result ret;

	memcpy(copy, data, size);
	copy[size] = '\0';
	def = copy;
	nl = strchr(def, '\n');
	stored = nl == NULL ? def + strlen(def) : nl + 1;
	if (nl != NULL)
		*nl = '\0';
	nl = strchr(stored, '\n');
	plain = nl == NULL ? stored + strlen(stored) : nl + 1;
	if (nl != NULL)
		*nl = '\0';

	ret = password_check(stored, def, &error);
	if (ret != PASSWORD_OK && ret != PASSWORD_UNKNOWN_SCHEME && ret != PASSWORD_MALFORMED)
		abort();
	/* The scheme is known exactly when the check got past the prefix. */
	if (strlen(stored) <= PASSWORD_STORED_MAX &&
	    password_get_scheme(stored, def, scheme, sizeof(scheme)) !=
		    (ret != PASSWORD_UNKNOWN_SCHEME))
		abort();
	if (ret == PASSWORD_OK && password_get_scheme(stored, def, scheme, sizeof(scheme)) &&
	    !is_crypt(scheme)) {
		/* A SCRAM count the parser allows may still be too slow for fuzzing. */
		bool slow = false;

		if (strcmp(scheme, "SCRAM-SHA-256") == 0)
			slow = password_scram_get(stored, def, &sc, &error) != PASSWORD_OK ||
			       sc.iterations > 4096;
		if (!slow) {
			ret = password_verify(stored, def, plain, &error);
			if (ret != PASSWORD_OK && ret != PASSWORD_MISMATCH)
				abort();
		}
	}

	struct buf prep = BUF_INIT(PASSWORD_PLAINTEXT_MAX);

	if (!password_saslprep(plain, &prep, &error) && buf_len(&prep) != 0)
		abort();
	buf_free(&prep);

	/* Whatever we generate must verify with the same plaintext. */
	struct buf gen = BUF_INIT(PASSWORD_STORED_MAX);
	const char *gs = cheap_schemes[size % (sizeof(cheap_schemes) / sizeof(cheap_schemes[0]))];

	if (password_generate(gs, plain, 0, &gen, &error)) {
		if (password_verify(buf_cstr(&gen), NULL, plain, &error) != PASSWORD_OK)
			abort();
	} else if (strlen(plain) <= PASSWORD_PLAINTEXT_MAX && strcmp(gs, "PLAIN") != 0) {
		abort();
	}
	buf_free(&gen);
	free(copy);
	return 0;
}
