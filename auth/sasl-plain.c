/*
 * SASL PLAIN (RFC 4616) for roost-auth: one message,
 * "authzid NUL authcid NUL passwd", from a hostile client. Collects the
 * identity and password for the passdb check; authorization as another
 * user (master users) is refused until roost supports it.
 */
#include <string.h>

#include "sasl-private.h"

enum sasl_result sasl_plain_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r)
{
	const uint8_t *nul1, *nul2, *authzid, *authcid, *pass;
	size_t authzid_len, authcid_len, pass_len;

	(void)challenge;
	if (data == NULL) {
		/* No initial response: an empty challenge asks for the message. */
		return SASL_CONTINUE;
	}
	nul1 = memchr(data, '\0', len);
	nul2 = nul1 == NULL ? NULL : memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - data));
	if (nul2 == NULL) {
		*error_r = "PLAIN message needs authzid NUL authcid NUL password";
		return SASL_MALFORMED;
	}
	authzid = data;
	authzid_len = (size_t)(nul1 - data);
	authcid = nul1 + 1;
	authcid_len = (size_t)(nul2 - authcid);
	pass = nul2 + 1;
	pass_len = len - (size_t)(pass - data);
	if (memchr(pass, '\0', pass_len) != NULL) {
		*error_r = "PLAIN message has a NUL in the password";
		return SASL_MALFORMED;
	}
	if (authcid_len == 0) {
		*error_r = "PLAIN message has an empty authentication identity";
		return SASL_MALFORMED;
	}
	if (pass_len == 0) {
		*error_r = "PLAIN message has an empty password";
		return SASL_MALFORMED;
	}
	if (authcid_len > SASL_USER_MAX || authzid_len > SASL_USER_MAX) {
		*error_r = "PLAIN identity is too long";
		return SASL_MALFORMED;
	}
	if (pass_len > SASL_PASSWORD_MAX) {
		*error_r = "PLAIN password is too long";
		return SASL_MALFORMED;
	}
	/* Identities are UTF-8 (RFC 4616); passwords stay bytes for legacy clients. */
	if (!sasl_utf8_valid(authcid, authcid_len) || !sasl_utf8_valid(authzid, authzid_len)) {
		*error_r = "PLAIN identity is not valid UTF-8";
		return SASL_MALFORMED;
	}
	buf_reset(&s->user);
	buf_append(&s->user, authcid, authcid_len);
	if (authzid_len != 0 &&
	    (authzid_len != authcid_len || memcmp(authzid, authcid, authcid_len) != 0)) {
		*error_r = "Authorization identity differs from the authentication identity";
		s->failure = SASL_FAIL_AUTHZID;
		return SASL_FAILURE;
	}
	buf_reset(&s->password);
	buf_append(&s->password, pass, pass_len);
	return SASL_SUCCESS;
}
