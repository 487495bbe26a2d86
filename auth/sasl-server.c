/*
 * The SASL mechanism table and the session life cycle for roost-auth:
 * creation, the size checks every client response passes before a
 * mechanism sees it, and wiping secrets at the end. Trusts nothing the
 * client sends; the mechanisms do the parsing.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl-private.h"
#include "xalloc.h"

static const struct {
	const char *name;
	enum sasl_mech_id id;
	sasl_mech_step_fn *step;
	bool plaintext;
} mechs[] = {
	{"PLAIN", SASL_MECH_PLAIN, sasl_plain_step, true},
	{"LOGIN", SASL_MECH_LOGIN, sasl_login_step, true},
	{"SCRAM-SHA-256", SASL_MECH_SCRAM_SHA_256, sasl_scram_step, false},
};

bool sasl_mech_find(const char *name, enum sasl_mech_id *id_r)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(mechs); i++) {
		if (strcasecmp(mechs[i].name, name) == 0) {
			*id_r = mechs[i].id;
			return true;
		}
	}
	return false;
}

const char *sasl_mech_name(enum sasl_mech_id id)
{
	return (size_t)id < N_ELEMENTS(mechs) ? mechs[id].name : "UNKNOWN";
}

bool sasl_mech_is_plaintext(enum sasl_mech_id id)
{
	return (size_t)id < N_ELEMENTS(mechs) && mechs[id].plaintext;
}

struct sasl_session *sasl_session_create(enum sasl_mech_id id,
					 const struct sasl_server_settings *set)
{
	struct sasl_session *s;

	if ((size_t)id >= N_ELEMENTS(mechs))
		return NULL;
	s = i_calloc(1, sizeof(*s));
	s->mech = id;
	s->set = *set;
	buf_init(&s->user, SASL_USER_MAX);
	buf_init(&s->password, SASL_PASSWORD_MAX);
	return s;
}

void sasl_session_destroy(struct sasl_session **sp)
{
	struct sasl_session *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	sasl_scram_free(s);
	buf_free_secret(&s->user);
	buf_free_secret(&s->password);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

enum sasl_result sasl_step(struct sasl_session *s, const uint8_t *data, size_t len,
			   struct buf *challenge_out, const char **error_r)
{
	enum sasl_result ret;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	*error_r = NULL;
	buf_reset(challenge_out);
	if (s->finished) {
		*error_r = "SASL exchange already finished";
		return SASL_MALFORMED;
	}
	if (data == NULL && (s->first_step_done || len != 0)) {
		data = (const uint8_t *)"";
		len = 0;
	}
	s->first_step_done = true;
	if (len > SASL_MESSAGE_MAX) {
		*error_r = "Client response is too long";
		ret = SASL_MALFORMED;
	} else if (buf_max(challenge_out) < SASL_CHALLENGE_MAX) {
		/* The caller's buffer is too small: our bug, but never a crash. */
		*error_r = "Challenge buffer is too small";
		s->failure = SASL_FAIL_TEMP;
		ret = SASL_FAILURE;
	} else {
		ret = mechs[s->mech].step(s, data, len, challenge_out, error_r);
	}
	if (ret == SASL_CONTINUE)
		return ret;
	s->finished = true;
	if (ret != SASL_SUCCESS) {
		buf_free_secret(&s->password);
		buf_reset(challenge_out);
		s->verified = false;
		if (*error_r == NULL)
			*error_r = "SASL exchange failed";
	}
	sasl_scram_free(s);
	return ret;
}

const char *sasl_session_user(const struct sasl_session *s)
{
	return buf_len(&s->user) == 0 ? NULL : buf_cstr(&s->user);
}

const char *sasl_session_password(const struct sasl_session *s)
{
	if (!s->finished || s->failure != SASL_FAIL_NONE || s->mech == SASL_MECH_SCRAM_SHA_256 ||
	    buf_len(&s->password) == 0)
		return NULL;
	return buf_cstr(&s->password);
}

bool sasl_session_verified(const struct sasl_session *s)
{
	return s->finished && s->verified;
}

enum sasl_failure sasl_session_failure(const struct sasl_session *s)
{
	return s->failure;
}

enum sasl_mech_id sasl_session_mech(const struct sasl_session *s)
{
	return s->mech;
}

bool sasl_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = p[i];
		size_t need, k;
		uint32_t cp, min;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}
