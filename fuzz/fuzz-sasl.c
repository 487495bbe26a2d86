/*
 * libFuzzer harness for the SASL mechanisms in auth/. Input: a mechanism
 * byte ('P'LAIN, 'L'OGIN, 'S'CRAM-SHA-256), a mode byte ('r' raw, 'b'
 * base64 as login relays it; upper case: no initial response), then client
 * responses separated by '\n'. The passdb knows RFC 7677's "user", so seeds
 * can reach a verified SCRAM success.
 *
 * The auth/ sources are included rather than linked: mk/build.mk links
 * fuzzers with the libraries only (no *_EXTRA as unit tests have), and
 * auth/ is a program folder, not a library. Drop these includes if the
 * fuzz rule learns fuzz-NAME_EXTRA.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../auth/sasl-login.c"
#include "../auth/sasl-plain.c"
#include "../auth/sasl-scram.c"
#include "../auth/sasl-server.c"
#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 8

static struct password_scram rfc_creds;
static bool rfc_creds_ready;

static enum sasl_lookup_result lookup(void *context, const char *user,
				      struct password_scram *creds_r)
{
	(void)context;
	if (strcmp(user, "user") == 0) {
		*creds_r = rfc_creds;
		return SASL_LOOKUP_OK;
	}
	if (strcmp(user, "cryptuser") == 0)
		return SASL_LOOKUP_UNUSABLE;
	if (strcmp(user, "temp") == 0)
		return SASL_LOOKUP_TEMPFAIL;
	return SASL_LOOKUP_UNKNOWN_USER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_server_settings set = {.scram_lookup = lookup,
					   .fixed_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"};
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX), dec = BUF_INIT(SASL_MESSAGE_MAX + 16);
	enum sasl_mech_id mech;
	enum sasl_result ret = SASL_CONTINUE;
	struct sasl_session *s;
	const uint8_t *p, *end = data + size;
	bool b64, no_ir;
	unsigned int steps = 0;

	if (size < 2)
		return 0;
	if (!rfc_creds_ready) {
		if (password_scram_get(
			    "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi"
			    "4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQx"
			    "SrmfPwDl2dU=",
			    NULL, &rfc_creds, NULL) != PASSWORD_OK)
			abort();
		rfc_creds_ready = true;
	}
	mech = data[0] == 'P'	? SASL_MECH_PLAIN
	       : data[0] == 'L' ? SASL_MECH_LOGIN
	       : data[0] == 'S' ? SASL_MECH_SCRAM_SHA_256
				: (enum sasl_mech_id)(data[0] % 3);
	b64 = data[1] == 'b' || data[1] == 'B';
	no_ir = data[1] == 'R' || data[1] == 'B';
	memset(set.fake_salt_key, 7, sizeof(set.fake_salt_key));
	s = sasl_session_create(mech, &set);
	if (no_ir) {
		ret = sasl_step(s, NULL, 0, &ch, NULL);
		steps++;
	}
	p = data + 2;
	while (ret == SASL_CONTINUE && steps < MAX_STEPS && p <= end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl == NULL ? end : nl) - p);
		const char *error = NULL;

		buf_reset(&dec);
		if (b64) {
			if (base64_decode(&dec, p, len) != BASE64_OK) {
				/* login answers a bad line itself; the exchange is over. */
				break;
			}
			ret = sasl_step(s, buf_data(&dec), buf_len(&dec), &ch, &error);
		} else {
			ret = sasl_step(s, p, len, &ch, &error);
		}
		steps++;
		if (buf_len(&ch) > SASL_CHALLENGE_MAX)
			abort();
		if (ret != SASL_CONTINUE && ret != SASL_SUCCESS && error == NULL)
			abort();
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (ret == SASL_SUCCESS) {
		const char *user = sasl_session_user(s), *pw = sasl_session_password(s);

		if (user == NULL || sasl_session_failure(s) != SASL_FAIL_NONE)
			abort();
		if (mech == SASL_MECH_SCRAM_SHA_256) {
			if (!sasl_session_verified(s) || pw != NULL || strcmp(user, "user") != 0)
				abort();
		} else if (pw == NULL || sasl_session_verified(s)) {
			abort();
		}
	} else if (ret != SASL_CONTINUE) {
		if (sasl_session_password(s) != NULL || sasl_session_verified(s))
			abort();
	}
	if (ret != SASL_CONTINUE &&
	    sasl_step(s, (const uint8_t *)"", 0, &ch, NULL) != SASL_MALFORMED)
		abort();
	sasl_session_destroy(&s);
	buf_free(&ch);
	buf_free(&dec);
	return 0;
}
