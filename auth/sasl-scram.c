/*
 * SASL SCRAM-SHA-256 (RFC 5802, RFC 7677) server side for roost-auth:
 * parses the client's first and final messages, answers with a nonce, the
 * user's salt and iteration count, checks the client proof against the
 * stored keys and proves itself with the server signature. Every client
 * message is hostile; channel binding is not offered, so "p=" is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl-private.h"
#include "xalloc.h"

/* Random bytes in our part of the nonce (base64: 24 characters). */
#define SCRAM_SERVER_NONCE_BYTES 18
/* Salt and rounds shown for users that do not exist. */
#define SCRAM_FAKE_SALT_LEN   PASSWORD_SCRAM_SALT_LEN
#define SCRAM_FAKE_ITERATIONS PASSWORD_SCRAM_ITER_DEFAULT

enum scram_state {
	SCRAM_START = 0,
	SCRAM_WANT_CLIENT_FIRST,
	SCRAM_WANT_CLIENT_FINAL,
	SCRAM_WANT_EMPTY,
};

struct sasl_scram_state {
	struct password_scram creds;
	/* Why the exchange must fail at the end although it goes on (unknown user). */
	enum sasl_failure deferred_failure;
	struct buf gs2_header;
	struct buf client_first_bare;
	struct buf server_first;
	struct buf nonce;
};

void sasl_scram_free(struct sasl_session *s)
{
	struct sasl_scram_state *st = s->scram;

	if (st == NULL)
		return;
	s->scram = NULL;
	buf_free_secret(&st->gs2_header);
	buf_free_secret(&st->client_first_bare);
	buf_free_secret(&st->server_first);
	buf_free_secret(&st->nonce);
	explicit_bzero(st, sizeof(*st));
	free(st);
}

/* A bounded view of the message being parsed. */
struct scan {
	const uint8_t *p;
	const uint8_t *end;
};

static bool scan_lit(struct scan *sc, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, lit, n) != 0)
		return false;
	sc->p += n;
	return true;
}

/* The bytes up to the next ',' (or the end); never empty-checks itself. */
static void scan_value(struct scan *sc, const uint8_t **v_r, size_t *len_r)
{
	const uint8_t *comma = memchr(sc->p, ',', (size_t)(sc->end - sc->p));
	const uint8_t *stop = comma == NULL ? sc->end : comma;

	*v_r = sc->p;
	*len_r = (size_t)(stop - sc->p);
	sc->p = stop;
}

/*
 * saslname (RFC 5802 section 7): UTF-8 without NUL, ',' and '=', where
 * "=2C" and "=3D" stand for ',' and '='. Decodes into out; false for an
 * empty name, a bare '=', another escape, bad UTF-8 or too long a name.
 */
static bool saslname_decode(const uint8_t *v, size_t len, struct buf *out)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t c = v[i];

		if (c == '=') {
			if (len - i < 3)
				return false;
			if (v[i + 1] == '2' && v[i + 2] == 'C')
				c = ',';
			else if (v[i + 1] == '3' && v[i + 2] == 'D')
				c = '=';
			else
				return false;
			i += 2;
		}
		if (!buf_append_c(out, c))
			return false;
	}
	return sasl_utf8_valid(buf_data(out), buf_len(out));
}

/* printable = %x21-2B / %x2D-7E: the nonce alphabet. */
static bool nonce_valid(const uint8_t *v, size_t len)
{
	size_t i;

	if (len == 0 || len > SASL_SCRAM_NONCE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',')
			return false;
	}
	return true;
}

/* Optional ",attr=value" extensions at the end of a message: checked, then ignored. */
static bool extensions_valid(struct scan *sc)
{
	while (sc->p < sc->end) {
		const uint8_t *v;
		size_t len;

		if (!scan_lit(sc, ",") || sc->end - sc->p < 2)
			return false;
		if (!((sc->p[0] >= 'a' && sc->p[0] <= 'z') ||
		      (sc->p[0] >= 'A' && sc->p[0] <= 'Z')) ||
		    sc->p[1] != '=')
			return false;
		sc->p += 2;
		scan_value(sc, &v, &len);
		if (len == 0 || !sasl_utf8_valid(v, len))
			return false;
	}
	return true;
}

/* The salt for a user that does not exist: stable per name, unguessable without the key. */
static void fake_creds(const struct sasl_session *s, const char *user, struct password_scram *creds)
{
	uint8_t mac[PASSWORD_SCRAM_KEY_LEN];

	memset(creds, 0, sizeof(*creds));
	password_hmac_sha256(s->set.fake_salt_key, sizeof(s->set.fake_salt_key), user, strlen(user),
			     mac);
	memcpy(creds->salt, mac, SCRAM_FAKE_SALT_LEN);
	creds->salt_len = SCRAM_FAKE_SALT_LEN;
	creds->iterations = SCRAM_FAKE_ITERATIONS;
	/* Keys no proof can match: the exchange fails at the end like a wrong password. */
	password_hmac_sha256(mac, sizeof(mac), "stored", 6, creds->stored_key);
	password_hmac_sha256(mac, sizeof(mac), "server", 6, creds->server_key);
	explicit_bzero(mac, sizeof(mac));
}

static bool make_server_nonce(const struct sasl_session *s, struct buf *nonce)
{
	uint8_t rnd[SCRAM_SERVER_NONCE_BYTES];
	bool ok;

	if (s->set.fixed_nonce != NULL)
		return nonce_valid((const uint8_t *)s->set.fixed_nonce,
				   strlen(s->set.fixed_nonce)) &&
		       buf_append_str(nonce, s->set.fixed_nonce);
	if (!password_random(rnd, sizeof(rnd)))
		return false;
	ok = base64_encode(nonce, rnd, sizeof(rnd));
	explicit_bzero(rnd, sizeof(rnd));
	return ok;
}

static enum sasl_result client_first(struct sasl_session *s, const uint8_t *data, size_t len,
				     struct buf *challenge, const char **error_r)
{
	struct sasl_scram_state *st;
	struct scan sc = {data, data + len};
	const uint8_t *v, *bare, *cnonce;
	size_t vlen, cnonce_len;
	struct buf authzid = BUF_INIT(SASL_USER_MAX);
	enum sasl_lookup_result lookup;

	st = i_calloc(1, sizeof(*st));
	s->scram = st;
	buf_init(&st->gs2_header, SASL_MESSAGE_MAX);
	buf_init(&st->client_first_bare, SASL_MESSAGE_MAX);
	buf_init(&st->server_first, SASL_CHALLENGE_MAX);
	buf_init(&st->nonce, 2 * SASL_SCRAM_NONCE_MAX);

	/* gs2-header: cbind flag, optional authzid. */
	if (scan_lit(&sc, "p=")) {
		*error_r = "SCRAM client requires channel binding, which is not offered";
		s->failure = SASL_FAIL_CHANNEL_BINDING;
		return SASL_FAILURE;
	}
	if (!scan_lit(&sc, "n,") && !scan_lit(&sc, "y,")) {
		*error_r = "SCRAM client-first-message has no valid GS2 channel binding flag";
		return SASL_MALFORMED;
	}
	if (scan_lit(&sc, "a=")) {
		scan_value(&sc, &v, &vlen);
		if (!saslname_decode(v, vlen, &authzid)) {
			buf_free(&authzid);
			*error_r = "SCRAM authzid is invalid";
			return SASL_MALFORMED;
		}
	}
	if (!scan_lit(&sc, ",")) {
		buf_free(&authzid);
		*error_r = "SCRAM GS2 header is malformed";
		return SASL_MALFORMED;
	}
	buf_append(&st->gs2_header, data, (size_t)(sc.p - data));
	bare = sc.p;

	if (scan_lit(&sc, "m=")) {
		buf_free(&authzid);
		*error_r = "SCRAM mandatory extension is not supported";
		s->failure = SASL_FAIL_EXTENSION;
		return SASL_FAILURE;
	}
	if (!scan_lit(&sc, "n=")) {
		buf_free(&authzid);
		*error_r = "SCRAM client-first-message has no user name";
		return SASL_MALFORMED;
	}
	scan_value(&sc, &v, &vlen);
	if (!saslname_decode(v, vlen, &s->user)) {
		buf_free(&authzid);
		buf_reset(&s->user);
		*error_r = "SCRAM user name is invalid";
		return SASL_MALFORMED;
	}
	if (!scan_lit(&sc, ",r=")) {
		buf_free(&authzid);
		*error_r = "SCRAM client-first-message has no nonce";
		return SASL_MALFORMED;
	}
	scan_value(&sc, &cnonce, &cnonce_len);
	if (!nonce_valid(cnonce, cnonce_len) || !extensions_valid(&sc)) {
		buf_free(&authzid);
		*error_r = "SCRAM client nonce or extensions are invalid";
		return SASL_MALFORMED;
	}
	buf_append(&st->client_first_bare, bare, (size_t)(data + len - bare));

	if (buf_len(&authzid) != 0 &&
	    (buf_len(&authzid) != buf_len(&s->user) ||
	     memcmp(buf_data(&authzid), buf_data(&s->user), buf_len(&authzid)) != 0)) {
		buf_free(&authzid);
		*error_r = "Authorization identity differs from the authentication identity";
		s->failure = SASL_FAIL_AUTHZID;
		return SASL_FAILURE;
	}
	buf_free(&authzid);

	lookup = s->set.scram_lookup == NULL
			 ? SASL_LOOKUP_TEMPFAIL
			 : s->set.scram_lookup(s->set.context, buf_cstr(&s->user), &st->creds);
	switch (lookup) {
	case SASL_LOOKUP_OK:
		if (st->creds.iterations == 0 || st->creds.salt_len == 0 ||
		    st->creds.salt_len > sizeof(st->creds.salt)) {
			*error_r = "SCRAM credentials from the passdb are invalid";
			s->failure = SASL_FAIL_TEMP;
			return SASL_FAILURE;
		}
		break;
	case SASL_LOOKUP_UNKNOWN_USER:
	case SASL_LOOKUP_UNUSABLE:
		/* Carry on with a fake salt: the client learns nothing until the proof fails. */
		st->deferred_failure = lookup == SASL_LOOKUP_UNKNOWN_USER ? SASL_FAIL_UNKNOWN_USER
									  : SASL_FAIL_CREDENTIALS;
		fake_creds(s, buf_cstr(&s->user), &st->creds);
		break;
	case SASL_LOOKUP_TEMPFAIL:
	default:
		*error_r = "SCRAM credentials lookup failed";
		s->failure = SASL_FAIL_TEMP;
		return SASL_FAILURE;
	}

	buf_append(&st->nonce, cnonce, cnonce_len);
	if (!make_server_nonce(s, &st->nonce)) {
		*error_r = "Cannot make a SCRAM server nonce";
		s->failure = SASL_FAIL_TEMP;
		return SASL_FAILURE;
	}
	if (!buf_append_str(&st->server_first, "r=") ||
	    !buf_append(&st->server_first, buf_data(&st->nonce), buf_len(&st->nonce)) ||
	    !buf_append_str(&st->server_first, ",s=") ||
	    !base64_encode(&st->server_first, st->creds.salt, st->creds.salt_len) ||
	    !buf_printf(&st->server_first, ",i=%u", st->creds.iterations) ||
	    !buf_append(challenge, buf_data(&st->server_first), buf_len(&st->server_first))) {
		*error_r = "SCRAM server-first-message does not fit";
		s->failure = SASL_FAIL_TEMP;
		return SASL_FAILURE;
	}
	s->state = SCRAM_WANT_CLIENT_FINAL;
	return SASL_CONTINUE;
}

/* Finds the last ",p=" so the proof and the message without it can be split. */
static const uint8_t *find_proof(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = len; i >= 3; i--) {
		if (data[i - 3] == ',' && data[i - 2] == 'p' && data[i - 1] == '=')
			return data + i - 3;
	}
	return NULL;
}

static enum sasl_result client_final(struct sasl_session *s, const uint8_t *data, size_t len,
				     struct buf *challenge, const char **error_r)
{
	struct sasl_scram_state *st = s->scram;
	const uint8_t *proof_at = find_proof(data, len), *v;
	struct scan sc = {data, proof_at};
	struct buf cbind = BUF_INIT(SASL_MESSAGE_MAX), auth_msg = BUF_INIT(3 * SASL_MESSAGE_MAX);
	uint8_t proof[PASSWORD_SCRAM_KEY_LEN], sig[PASSWORD_SCRAM_KEY_LEN];
	uint8_t client_key[PASSWORD_SCRAM_KEY_LEN], stored[PASSWORD_SCRAM_KEY_LEN];
	size_t vlen, proof_len, i;
	enum sasl_result ret = SASL_MALFORMED;

	if (proof_at == NULL) {
		*error_r = "SCRAM client-final-message has no proof";
		goto out;
	}
	/* c=base64(gs2-header): without channel binding it must echo our header exactly. */
	if (!scan_lit(&sc, "c=")) {
		*error_r = "SCRAM client-final-message has no channel binding";
		goto out;
	}
	scan_value(&sc, &v, &vlen);
	if (base64_decode(&cbind, v, vlen) != BASE64_OK) {
		*error_r = "SCRAM channel binding is not valid base64";
		goto out;
	}
	if (buf_len(&cbind) != buf_len(&st->gs2_header) ||
	    memcmp(buf_data(&cbind), buf_data(&st->gs2_header), buf_len(&cbind)) != 0) {
		*error_r = "SCRAM channel binding does not match the GS2 header";
		s->failure = SASL_FAIL_CHANNEL_BINDING;
		ret = SASL_FAILURE;
		goto out;
	}
	if (!scan_lit(&sc, ",r=")) {
		*error_r = "SCRAM client-final-message has no nonce";
		goto out;
	}
	scan_value(&sc, &v, &vlen);
	if (vlen != buf_len(&st->nonce) || memcmp(v, buf_data(&st->nonce), vlen) != 0) {
		*error_r = "SCRAM nonce does not match";
		goto out;
	}
	if (!extensions_valid(&sc)) {
		*error_r = "SCRAM client-final-message extensions are invalid";
		goto out;
	}
	if (base64_decode_to(proof, sizeof(proof), proof_at + 3,
			     (size_t)(data + len - proof_at - 3), &proof_len) != BASE64_OK ||
	    proof_len != sizeof(proof)) {
		*error_r = "SCRAM proof is not 32 bytes of base64";
		goto out;
	}

	/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof. */
	buf_append(&auth_msg, buf_data(&st->client_first_bare), buf_len(&st->client_first_bare));
	buf_append_c(&auth_msg, ',');
	buf_append(&auth_msg, buf_data(&st->server_first), buf_len(&st->server_first));
	buf_append_c(&auth_msg, ',');
	buf_append(&auth_msg, data, (size_t)(proof_at - data));

	password_hmac_sha256(st->creds.stored_key, sizeof(st->creds.stored_key),
			     buf_data(&auth_msg), buf_len(&auth_msg), sig);
	for (i = 0; i < sizeof(client_key); i++)
		client_key[i] = proof[i] ^ sig[i];
	password_sha256(client_key, sizeof(client_key), stored);
	if (!password_mem_equal(stored, st->creds.stored_key, sizeof(stored)) ||
	    st->deferred_failure != SASL_FAIL_NONE) {
		s->failure = st->deferred_failure != SASL_FAIL_NONE ? st->deferred_failure
								    : SASL_FAIL_PASSWORD;
		*error_r = s->failure == SASL_FAIL_UNKNOWN_USER	 ? "Unknown user"
			   : s->failure == SASL_FAIL_CREDENTIALS ? "No SCRAM credentials for user"
								 : "Password mismatch";
		ret = SASL_FAILURE;
		goto out;
	}
	s->verified = true;
	password_hmac_sha256(st->creds.server_key, sizeof(st->creds.server_key),
			     buf_data(&auth_msg), buf_len(&auth_msg), sig);
	buf_append_str(challenge, "v=");
	base64_encode(challenge, sig, sizeof(sig));
	s->state = SCRAM_WANT_EMPTY;
	ret = SASL_CONTINUE;
out:
	explicit_bzero(proof, sizeof(proof));
	explicit_bzero(sig, sizeof(sig));
	explicit_bzero(client_key, sizeof(client_key));
	explicit_bzero(stored, sizeof(stored));
	buf_free(&cbind);
	buf_free_secret(&auth_msg);
	return ret;
}

enum sasl_result sasl_scram_step(struct sasl_session *s, const uint8_t *data, size_t len,
				 struct buf *challenge, const char **error_r)
{
	switch ((enum scram_state)s->state) {
	case SCRAM_START:
		if (data == NULL) {
			/* The client speaks first: an empty challenge asks for client-first. */
			s->state = SCRAM_WANT_CLIENT_FIRST;
			return SASL_CONTINUE;
		}
		return client_first(s, data, len, challenge, error_r);
	case SCRAM_WANT_CLIENT_FIRST:
		return client_first(s, data, len, challenge, error_r);
	case SCRAM_WANT_CLIENT_FINAL:
		return client_final(s, data, len, challenge, error_r);
	case SCRAM_WANT_EMPTY:
		if (len != 0) {
			*error_r = "SCRAM expected an empty response after server-final-message";
			s->verified = false;
			return SASL_MALFORMED;
		}
		return SASL_SUCCESS;
	}
	*error_r = "SCRAM in an impossible state";
	return SASL_MALFORMED;
}
