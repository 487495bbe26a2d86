/*
 * Unit tests for auth/sasl-*.c: PLAIN (RFC 4616) and LOGIN exchanges with
 * their malformed variants, and SCRAM-SHA-256 replaying RFC 7677's example
 * byte for byte, a full exchange with a random nonce, unknown users behind
 * stable fake salts, and every refusal the server must make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../auth/sasl.h"
#include "base64.h"

/* RFC 7677 section 3: user "user", password "pencil". */
#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE	 "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL                                                                           \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9z" \
	"jfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define RFC_STORED                                      \
	"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==," \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="  \
	",wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

struct lookup_ctx {
	unsigned int calls;
	const char *last_user;
	bool tempfail;
};

/* A passdb with "user" (RFC 7677's), "plainuser" ({PLAIN}pencil) and "cryptuser". */
static enum sasl_lookup_result lookup(void *context, const char *user,
				      struct password_scram *creds_r)
{
	struct lookup_ctx *ctx = context;
	const char *stored;

	ctx->calls++;
	ctx->last_user = user;
	if (ctx->tempfail)
		return SASL_LOOKUP_TEMPFAIL;
	if (strcmp(user, "user") == 0)
		stored = RFC_STORED;
	else if (strcmp(user, "plainuser") == 0 || strcmp(user, "a,b=c") == 0)
		stored = "{PLAIN}pencil";
	else if (strcmp(user, "cryptuser") == 0)
		stored = "{SHA512-CRYPT}$6$x$y";
	else
		return SASL_LOOKUP_UNKNOWN_USER;
	switch (password_scram_get(stored, NULL, creds_r, NULL)) {
	case PASSWORD_OK:
		return SASL_LOOKUP_OK;
	case PASSWORD_UNSUPPORTED:
		return SASL_LOOKUP_UNUSABLE;
	default:
		return SASL_LOOKUP_TEMPFAIL;
	}
}

static struct lookup_ctx lctx;

static struct sasl_session *session(enum sasl_mech_id id, const char *fixed_nonce)
{
	struct sasl_server_settings set = {
		.scram_lookup = lookup, .context = &lctx, .fixed_nonce = fixed_nonce};

	memset(set.fake_salt_key, 0x42, sizeof(set.fake_salt_key));
	memset(&lctx, 0, sizeof(lctx));
	return sasl_session_create(id, &set);
}

static enum sasl_result step_str(struct sasl_session *s, const char *msg, struct buf *ch)
{
	return sasl_step(s, (const uint8_t *)msg, strlen(msg), ch, NULL);
}

static enum sasl_result step_bin(struct sasl_session *s, const void *msg, size_t len,
				 struct buf *ch)
{
	return sasl_step(s, msg, len, ch, NULL);
}

static void test_mech_table(void **state)
{
	enum sasl_mech_id id;

	(void)state;
	assert_true(sasl_mech_find("plain", &id));
	assert_int_equal(id, SASL_MECH_PLAIN);
	assert_true(sasl_mech_find("Scram-Sha-256", &id));
	assert_int_equal(id, SASL_MECH_SCRAM_SHA_256);
	assert_false(sasl_mech_find("CRAM-MD5", &id));
	assert_false(sasl_mech_find("", &id));
	assert_string_equal(sasl_mech_name(SASL_MECH_LOGIN), "LOGIN");
	assert_true(sasl_mech_is_plaintext(SASL_MECH_PLAIN));
	assert_true(sasl_mech_is_plaintext(SASL_MECH_LOGIN));
	assert_false(sasl_mech_is_plaintext(SASL_MECH_SCRAM_SHA_256));
}

static void test_plain(void **state)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s;

	(void)state;
	/* With an initial response. */
	s = session(SASL_MECH_PLAIN, NULL);
	assert_int_equal(step_bin(s, "\0jdoe@example.com\0s3cr\xe9t", 24, &ch), SASL_SUCCESS);
	assert_string_equal(sasl_session_user(s), "jdoe@example.com");
	assert_string_equal(sasl_session_password(s), "s3cr\xe9t");
	assert_false(sasl_session_verified(s));
	assert_int_equal(sasl_session_mech(s), SASL_MECH_PLAIN);
	/* Finished: any further step is malformed. */
	assert_int_equal(step_str(s, "x", &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);
	assert_null(s);

	/* Without: an empty challenge first; authzid equal to authcid is fine. */
	s = session(SASL_MECH_PLAIN, NULL);
	assert_int_equal(sasl_step(s, NULL, 0, &ch, NULL), SASL_CONTINUE);
	assert_int_equal(buf_len(&ch), 0);
	assert_int_equal(step_bin(s, "tim\0tim\0tanstaaftanstaaf", 24, &ch), SASL_SUCCESS);
	assert_string_equal(sasl_session_user(s), "tim");
	assert_string_equal(sasl_session_password(s), "tanstaaftanstaaf");
	sasl_session_destroy(&s);

	/* Another authorization identity: refused, the user kept for the log. */
	const char *error;

	s = session(SASL_MECH_PLAIN, NULL);
	assert_int_equal(sasl_step(s, (const uint8_t *)"Ursel\0Kurt\0xipj3plmq", 20, &ch, &error),
			 SASL_FAILURE);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_AUTHZID);
	assert_string_equal(sasl_session_user(s), "Kurt");
	assert_null(sasl_session_password(s));
	sasl_session_destroy(&s);
}

static void expect_plain_malformed(const void *msg, size_t len)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s = session(SASL_MECH_PLAIN, NULL);
	const char *error = NULL;

	assert_int_equal(sasl_step(s, msg, len, &ch, &error), SASL_MALFORMED);
	assert_non_null(error);
	assert_null(sasl_session_password(s));
	sasl_session_destroy(&s);
	buf_free(&ch);
}

static void test_plain_malformed(void **state)
{
	static uint8_t big[SASL_MESSAGE_MAX + 1];
	static uint8_t longpw[3 + SASL_PASSWORD_MAX + 1];

	(void)state;
	expect_plain_malformed("", 0);
	expect_plain_malformed("user", 4);
	expect_plain_malformed("\0user", 5);
	expect_plain_malformed("\0\0pass", 7);		/* empty authcid */
	expect_plain_malformed("\0user\0", 6);		/* empty password */
	expect_plain_malformed("\0user\0pa\0ss", 11);	/* third NUL */
	expect_plain_malformed("\0us\xffr\0pass", 10);	/* identity not UTF-8 */
	expect_plain_malformed("\xc0\x80\0u\0pass", 9); /* authzid not UTF-8 */
	memset(big, 'a', sizeof(big));
	big[0] = 0;
	big[2] = 0;
	expect_plain_malformed(big, sizeof(big));
	memset(longpw, 'p', sizeof(longpw));
	longpw[0] = 0;
	longpw[1] = 'u';
	longpw[2] = 0;
	expect_plain_malformed(longpw, sizeof(longpw));
	memset(big, 'u', sizeof(big));
	big[0] = 0;
	big[SASL_USER_MAX + 2] = 0;
	expect_plain_malformed(big, SASL_USER_MAX + 5);
}

static void test_plain_boundaries(void **state)
{
	static uint8_t msg[1 + SASL_USER_MAX + 1 + SASL_USER_MAX + 1 + SASL_PASSWORD_MAX];
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s;
	size_t n = 0;

	(void)state;
	/* The longest identities and password we promise to take (RFC 4616 asks for 255). */
	memset(msg, 'u', sizeof(msg));
	n += SASL_USER_MAX;
	msg[n++] = '\0';
	n += SASL_USER_MAX;
	msg[n++] = '\0';
	memset(msg + n, 'p', SASL_PASSWORD_MAX);
	n += SASL_PASSWORD_MAX;
	s = session(SASL_MECH_PLAIN, NULL);
	assert_int_equal(step_bin(s, msg, n, &ch), SASL_SUCCESS);
	assert_int_equal(strlen(sasl_session_user(s)), SASL_USER_MAX);
	assert_int_equal(strlen(sasl_session_password(s)), SASL_PASSWORD_MAX);
	sasl_session_destroy(&s);
	buf_free(&ch);
}

static void test_login(void **state)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s;

	(void)state;
	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(sasl_step(s, NULL, 0, &ch, NULL), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), "Username:");
	assert_int_equal(step_str(s, "jdoe@example.com", &ch), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), "Password:");
	assert_null(sasl_session_password(s));
	assert_int_equal(step_str(s, "secret pw", &ch), SASL_SUCCESS);
	assert_int_equal(buf_len(&ch), 0);
	assert_string_equal(sasl_session_user(s), "jdoe@example.com");
	assert_string_equal(sasl_session_password(s), "secret pw");
	sasl_session_destroy(&s);

	/* The user name as initial response. */
	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(step_str(s, "jdoe", &ch), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), "Password:");
	assert_int_equal(step_str(s, "pw", &ch), SASL_SUCCESS);
	sasl_session_destroy(&s);

	/* An empty initial response is no initial response. */
	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(step_str(s, "", &ch), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), "Username:");
	assert_int_equal(step_str(s, "", &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);

	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(step_str(s, "jdoe", &ch), SASL_CONTINUE);
	assert_int_equal(step_bin(s, "p\0w", 3, &ch), SASL_MALFORMED);
	assert_null(sasl_session_password(s));
	sasl_session_destroy(&s);

	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(step_bin(s, "jd\0oe", 5, &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);

	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(step_str(s, "jdoe", &ch), SASL_CONTINUE);
	assert_int_equal(step_str(s, "", &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);
	buf_free(&ch);
}

static void test_scram_rfc7677(void **state)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s = session(SASL_MECH_SCRAM_SHA_256, RFC_SNONCE);

	(void)state;
	assert_int_equal(sasl_step(s, NULL, 0, &ch, NULL), SASL_CONTINUE);
	assert_int_equal(buf_len(&ch), 0);
	assert_int_equal(step_str(s, RFC_CLIENT_FIRST, &ch), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), RFC_SERVER_FIRST);
	assert_string_equal(lctx.last_user, "user");
	assert_int_equal(step_str(s, RFC_CLIENT_FINAL, &ch), SASL_CONTINUE);
	assert_string_equal(buf_cstr(&ch), RFC_SERVER_FINAL);
	assert_false(sasl_session_verified(s)); /* not finished yet */
	assert_int_equal(step_str(s, "", &ch), SASL_SUCCESS);
	assert_true(sasl_session_verified(s));
	assert_string_equal(sasl_session_user(s), "user");
	assert_null(sasl_session_password(s));
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_NONE);
	sasl_session_destroy(&s);

	/* The same with SASL-IR, and a non-empty answer to server-final. */
	s = session(SASL_MECH_SCRAM_SHA_256, RFC_SNONCE);
	assert_int_equal(step_str(s, RFC_CLIENT_FIRST, &ch), SASL_CONTINUE);
	assert_int_equal(step_str(s, RFC_CLIENT_FINAL, &ch), SASL_CONTINUE);
	assert_int_equal(step_str(s, "x", &ch), SASL_MALFORMED);
	assert_false(sasl_session_verified(s));
	sasl_session_destroy(&s);
	buf_free(&ch);
}

/* A minimal SCRAM-SHA-256 client: the final message for password, given server-first. */
static void client_final_for(const char *gs2, const char *client_first_bare,
			     const char *server_first, const char *password, struct buf *out)
{
	const char *r = strstr(server_first, "r="), *salt = strstr(server_first, ",s=") + 3;
	const char *iter = strstr(server_first, ",i=") + 3;
	uint8_t saltb[64], salted[32], client_key[32], stored[32], sig[32], proof[32];
	size_t salt_len, i;
	struct buf cbind = BUF_INIT(256), auth = BUF_INIT(4096);

	assert_int_equal(base64_decode_to(saltb, sizeof(saltb), salt,
					  (size_t)(strchr(salt, ',') - salt), &salt_len),
			 BASE64_OK);
	assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), saltb, (int)salt_len,
					   atoi(iter), EVP_sha256(), 32, salted),
			 1);
	password_hmac_sha256(salted, 32, "Client Key", 10, client_key);
	password_sha256(client_key, 32, stored);
	buf_append_str(out, "c=");
	base64_encode(out, gs2, strlen(gs2));
	buf_append_str(out, ",");
	buf_append(out, r, (size_t)(strchr(r, ',') - r));
	buf_printf(&auth, "%s,%s,%s", client_first_bare, server_first, buf_cstr(out));
	password_hmac_sha256(stored, 32, buf_data(&auth), buf_len(&auth), sig);
	for (i = 0; i < 32; i++)
		proof[i] = client_key[i] ^ sig[i];
	buf_append_str(out, ",p=");
	base64_encode(out, proof, 32);
	buf_free(&cbind);
	buf_free(&auth);
}

static void test_scram_random_nonce(void **state)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX), fin = BUF_INIT(1024);
	struct sasl_session *s;
	char server_first[512];

	(void)state;
	/* {PLAIN} stored password, 'y' flag, escaped user name, an extension. */
	s = session(SASL_MECH_SCRAM_SHA_256, NULL);
	assert_int_equal(step_str(s, "y,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=abc,x=ext", &ch), SASL_CONTINUE);
	assert_string_equal(lctx.last_user, "a,b=c");
	assert_memory_equal(buf_cstr(&ch), "r=abc", 5);
	assert_int_equal(strlen(buf_cstr(&ch)),
			 strlen("r=abc") + 24 + strlen(",s=") + 24 + strlen(",i=4096"));
	str_copy(server_first, sizeof(server_first), buf_cstr(&ch));
	client_final_for("y,a=a=2Cb=3Dc,", "n=a=2Cb=3Dc,r=abc,x=ext", server_first, "pencil", &fin);
	assert_int_equal(step_str(s, buf_cstr(&fin), &ch), SASL_CONTINUE);
	assert_memory_equal(buf_cstr(&ch), "v=", 2);
	assert_int_equal(step_str(s, "", &ch), SASL_SUCCESS);
	assert_true(sasl_session_verified(s));
	assert_string_equal(sasl_session_user(s), "a,b=c");
	sasl_session_destroy(&s);

	/* Wrong password: a failure at the proof, no server signature. */
	s = session(SASL_MECH_SCRAM_SHA_256, NULL);
	assert_int_equal(step_str(s, "n,,n=plainuser,r=abc", &ch), SASL_CONTINUE);
	str_copy(server_first, sizeof(server_first), buf_cstr(&ch));
	buf_reset(&fin);
	client_final_for("n,,", "n=plainuser,r=abc", server_first, "pencil!", &fin);
	assert_int_equal(step_str(s, buf_cstr(&fin), &ch), SASL_FAILURE);
	assert_int_equal(buf_len(&ch), 0);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_PASSWORD);
	assert_false(sasl_session_verified(s));
	sasl_session_destroy(&s);
	buf_free(&ch);
	buf_free(&fin);
}

static void test_scram_unknown_user(void **state)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX), fin = BUF_INIT(1024);
	struct sasl_session *s;
	char first[512], second[512];
	const char *error;

	(void)state;
	/* An unknown user gets a salt that is the same every time... */
	s = session(SASL_MECH_SCRAM_SHA_256, "NONCE");
	assert_int_equal(step_str(s, "n,,n=ghost,r=abc", &ch), SASL_CONTINUE);
	str_copy(first, sizeof(first), buf_cstr(&ch));
	sasl_session_destroy(&s);
	s = session(SASL_MECH_SCRAM_SHA_256, "NONCE");
	assert_int_equal(step_str(s, "n,,n=ghost,r=abc", &ch), SASL_CONTINUE);
	str_copy(second, sizeof(second), buf_cstr(&ch));
	assert_string_equal(first, second);
	assert_non_null(strstr(first, ",i=4096"));
	/* ... and the exchange fails only at the proof, as a wrong password does. */
	client_final_for("n,,", "n=ghost,r=abc", first, "anything", &fin);
	assert_int_equal(sasl_step(s, (const uint8_t *)buf_cstr(&fin), buf_len(&fin), &ch, &error),
			 SASL_FAILURE);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_UNKNOWN_USER);
	assert_string_equal(error, "Unknown user");
	sasl_session_destroy(&s);

	/* Another unknown user gets another salt. */
	s = session(SASL_MECH_SCRAM_SHA_256, "NONCE");
	assert_int_equal(step_str(s, "n,,n=ghost2,r=abc", &ch), SASL_CONTINUE);
	assert_string_not_equal(buf_cstr(&ch), first);
	sasl_session_destroy(&s);

	/* A user whose hash cannot give SCRAM keys looks the same from outside. */
	s = session(SASL_MECH_SCRAM_SHA_256, "NONCE");
	assert_int_equal(step_str(s, "n,,n=cryptuser,r=abc", &ch), SASL_CONTINUE);
	str_copy(first, sizeof(first), buf_cstr(&ch));
	buf_reset(&fin);
	client_final_for("n,,", "n=cryptuser,r=abc", first, "x", &fin);
	assert_int_equal(step_str(s, buf_cstr(&fin), &ch), SASL_FAILURE);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_CREDENTIALS);
	sasl_session_destroy(&s);

	/* A passdb that fails temporarily ends the exchange at once. */
	s = session(SASL_MECH_SCRAM_SHA_256, "NONCE");
	lctx.tempfail = true;
	assert_int_equal(step_str(s, "n,,n=user,r=abc", &ch), SASL_FAILURE);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_TEMP);
	sasl_session_destroy(&s);
	buf_free(&ch);
	buf_free(&fin);
}

static enum sasl_result scram_first(const char *msg, enum sasl_failure *failure_r)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s = session(SASL_MECH_SCRAM_SHA_256, RFC_SNONCE);
	enum sasl_result ret = step_str(s, msg, &ch);

	*failure_r = sasl_session_failure(s);
	if (ret != SASL_CONTINUE)
		assert_int_equal(buf_len(&ch), 0);
	sasl_session_destroy(&s);
	buf_free(&ch);
	return ret;
}

static void test_scram_client_first_refusals(void **state)
{
	enum sasl_failure f;

	(void)state;
	assert_int_equal(scram_first("p=tls-unique,,n=user,r=abc", &f), SASL_FAILURE);
	assert_int_equal(f, SASL_FAIL_CHANNEL_BINDING);
	assert_int_equal(scram_first("n,a=other,n=user,r=abc", &f), SASL_FAILURE);
	assert_int_equal(f, SASL_FAIL_AUTHZID);
	assert_int_equal(scram_first("n,,m=ext,n=user,r=abc", &f), SASL_FAILURE);
	assert_int_equal(f, SASL_FAIL_EXTENSION);
	assert_int_equal(scram_first("n,a=user,n=user,r=abc", &f), SASL_CONTINUE);
	assert_int_equal(scram_first("x,,n=user,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,n=user,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=us=2Xer,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user=,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=a b", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=abc,", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=abc,1=x", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=abc,x=", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=us\xff,r=abc", &f), SASL_MALFORMED);
	assert_int_equal(scram_first("n,,n=user,r=abc,x=y,z=w", &f), SASL_CONTINUE);

	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s = session(SASL_MECH_SCRAM_SHA_256, NULL);

	assert_int_equal(step_bin(s, "n,,n=us\0er,r=abc", 16, &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);
	buf_free(&ch);
}

static enum sasl_result scram_final(const char *final, enum sasl_failure *failure_r)
{
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX);
	struct sasl_session *s = session(SASL_MECH_SCRAM_SHA_256, RFC_SNONCE);
	enum sasl_result ret;

	assert_int_equal(step_str(s, RFC_CLIENT_FIRST, &ch), SASL_CONTINUE);
	ret = step_str(s, final, &ch);
	*failure_r = sasl_session_failure(s);
	sasl_session_destroy(&s);
	buf_free(&ch);
	return ret;
}

#define RFC_NONCE "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_PROOF "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

static void test_scram_client_final_refusals(void **state)
{
	enum sasl_failure f;

	(void)state;
	assert_int_equal(scram_final(RFC_CLIENT_FINAL, &f), SASL_CONTINUE);
	/* Channel binding data that is not our GS2 header ("y,," instead of "n,,"). */
	assert_int_equal(scram_final("c=eSws," RFC_NONCE "," RFC_PROOF, &f), SASL_FAILURE);
	assert_int_equal(f, SASL_FAIL_CHANNEL_BINDING);
	assert_int_equal(scram_final("c=biw," RFC_NONCE "," RFC_PROOF, &f), SASL_MALFORMED);
	assert_int_equal(scram_final(RFC_NONCE "," RFC_PROOF, &f), SASL_MALFORMED);
	/* Someone else's nonce, or a shortened one. */
	assert_int_equal(scram_final("c=biws,r=rOprNGfwEbeRWgbNEkqO," RFC_PROOF, &f),
			 SASL_MALFORMED);
	assert_int_equal(
		scram_final(
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1," RFC_PROOF,
			&f),
		SASL_MALFORMED);
	/* Proof missing, short, not base64; a flipped bit is a wrong password. */
	assert_int_equal(scram_final("c=biws," RFC_NONCE, &f), SASL_MALFORMED);
	assert_int_equal(scram_final("c=biws," RFC_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs", &f),
			 SASL_MALFORMED);
	assert_int_equal(scram_final("c=biws," RFC_NONCE
				     ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7A"
				     "ndVQ",
				     &f),
			 SASL_MALFORMED);
	assert_int_equal(scram_final("c=biws," RFC_NONCE
				     ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7A"
				     "ndVM=",
				     &f),
			 SASL_FAILURE);
	assert_int_equal(f, SASL_FAIL_PASSWORD);
	/* The proof signs the extensions too: adding one breaks it. */
	assert_int_equal(scram_final("c=biws," RFC_NONCE ",x=y," RFC_PROOF, &f), SASL_FAILURE);
	assert_int_equal(scram_final("c=biws," RFC_NONCE ",=y," RFC_PROOF, &f), SASL_MALFORMED);
	assert_int_equal(scram_final("", &f), SASL_MALFORMED);
	assert_int_equal(scram_final(",p=", &f), SASL_MALFORMED);
}

static void test_limits_and_misuse(void **state)
{
	static uint8_t big[SASL_MESSAGE_MAX + 1];
	struct buf ch = BUF_INIT(SASL_CHALLENGE_MAX), small = BUF_INIT(16);
	struct sasl_session *s;
	const char *error;

	(void)state;
	memset(big, 'a', sizeof(big));
	s = session(SASL_MECH_LOGIN, NULL);
	assert_int_equal(sasl_step(s, big, sizeof(big), &ch, &error), SASL_MALFORMED);
	assert_string_equal(error, "Client response is too long");
	assert_int_equal(step_str(s, "x", &ch), SASL_MALFORMED);
	sasl_session_destroy(&s);

	s = session(SASL_MECH_SCRAM_SHA_256, NULL);
	assert_int_equal(sasl_step(s, NULL, 0, &small, &error), SASL_FAILURE);
	assert_int_equal(sasl_session_failure(s), SASL_FAIL_TEMP);
	sasl_session_destroy(&s);
	sasl_session_destroy(&s); /* NULL is fine */

	/* A fixed nonce with a ',' is refused rather than sent. */
	s = session(SASL_MECH_SCRAM_SHA_256, "a,b");
	assert_int_equal(step_str(s, "n,,n=user,r=abc", &ch), SASL_FAILURE);
	sasl_session_destroy(&s);

	struct sasl_server_settings set = {0};

	s = sasl_session_create(SASL_MECH_SCRAM_SHA_256, &set); /* no lookup callback */
	assert_int_equal(step_str(s, "n,,n=user,r=abc", &ch), SASL_FAILURE);
	sasl_session_destroy(&s);
	assert_null(sasl_session_create((enum sasl_mech_id)99, &set));
	buf_free(&ch);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_table),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_plain_malformed),
		cmocka_unit_test(test_plain_boundaries),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_scram_random_nonce),
		cmocka_unit_test(test_scram_unknown_user),
		cmocka_unit_test(test_scram_client_first_refusals),
		cmocka_unit_test(test_scram_client_final_refusals),
		cmocka_unit_test(test_limits_and_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
