/*
 * The non-standard SASL LOGIN mechanism (draft-murchison-sasl-login) for
 * roost-auth: "Username:" and "Password:" challenges, as Dovecot and most
 * servers send them, for old clients. The answers come from a hostile
 * client and are only length- and NUL-checked here.
 */
#include <string.h>

#include "sasl-private.h"

enum login_state {
	LOGIN_START = 0,
	LOGIN_WANT_USER,
	LOGIN_WANT_PASSWORD,
};

static bool set_user(struct sasl_session *s, const uint8_t *data, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "LOGIN user name is empty";
		return false;
	}
	if (len > SASL_USER_MAX) {
		*error_r = "LOGIN user name is too long";
		return false;
	}
	if (!sasl_utf8_valid(data, len)) {
		*error_r = "LOGIN user name is not valid UTF-8 or contains NUL";
		return false;
	}
	buf_reset(&s->user);
	buf_append(&s->user, data, len);
	return true;
}

enum sasl_result sasl_login_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r)
{
	switch ((enum login_state)s->state) {
	case LOGIN_START:
		if (data == NULL || len == 0) {
			s->state = LOGIN_WANT_USER;
			buf_append_str(challenge, "Username:");
			return SASL_CONTINUE;
		}
		/* Some clients send the user name as an initial response. */
		if (!set_user(s, data, len, error_r))
			return SASL_MALFORMED;
		s->state = LOGIN_WANT_PASSWORD;
		buf_append_str(challenge, "Password:");
		return SASL_CONTINUE;
	case LOGIN_WANT_USER:
		if (!set_user(s, data, len, error_r))
			return SASL_MALFORMED;
		s->state = LOGIN_WANT_PASSWORD;
		buf_append_str(challenge, "Password:");
		return SASL_CONTINUE;
	case LOGIN_WANT_PASSWORD:
		if (len == 0) {
			*error_r = "LOGIN password is empty";
			return SASL_MALFORMED;
		}
		if (len > SASL_PASSWORD_MAX) {
			*error_r = "LOGIN password is too long";
			return SASL_MALFORMED;
		}
		if (memchr(data, '\0', len) != NULL) {
			*error_r = "LOGIN password contains NUL";
			return SASL_MALFORMED;
		}
		buf_reset(&s->password);
		buf_append(&s->password, data, len);
		return SASL_SUCCESS;
	}
	*error_r = "LOGIN in an impossible state";
	return SASL_MALFORMED;
}
