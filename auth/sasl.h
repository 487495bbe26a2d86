/*
 * Server-side SASL mechanisms (PLAIN, LOGIN, SCRAM-SHA-256) as state
 * machines without I/O: roost-auth feeds them the decoded client responses
 * that login relays and turns their results into replies. Everything a
 * client sends is hostile; stored credentials come from the passdb through
 * a callback.
 */
#ifndef ROOST_AUTH_SASL_H
#define ROOST_AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "password.h"

/* Longest authentication or authorization identity, in bytes (RFC 4616 asks for 255). */
#define SASL_USER_MAX 255
/* Longest password in PLAIN and LOGIN. */
#define SASL_PASSWORD_MAX 1024
/* Longest decoded client response; longer is malformed. */
#define SASL_MESSAGE_MAX 4096
/* Longest SCRAM client nonce. */
#define SASL_SCRAM_NONCE_MAX 256
/* Room a challenge needs; challenge_out buffers must allow at least this much. */
#define SASL_CHALLENGE_MAX 1024

enum sasl_mech_id {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_SCRAM_SHA_256,
};

enum sasl_result {
	/* Send challenge_out (possibly empty) to the client and wait for its response. */
	SASL_CONTINUE,
	/*
	 * The exchange is complete. PLAIN and LOGIN: user and password are
	 * known but NOT verified; the caller checks them against the passdb.
	 * SCRAM: the client proved knowledge of the password (verified).
	 */
	SASL_SUCCESS,
	/* Well-formed but refused; sasl_session_failure() says why (for the log only). */
	SASL_FAILURE,
	/* The client sent something the mechanism's grammar does not allow. */
	SASL_MALFORMED,
};

enum sasl_failure {
	SASL_FAIL_NONE,
	/* SCRAM: the proof did not match the stored keys. */
	SASL_FAIL_PASSWORD,
	/* SCRAM: no such user (hidden from the client behind a fake salt until the end). */
	SASL_FAIL_UNKNOWN_USER,
	/* SCRAM: the user's stored password cannot give SCRAM keys (a crypt hash). */
	SASL_FAIL_CREDENTIALS,
	/* An authorization identity other than the authentication identity. */
	SASL_FAIL_AUTHZID,
	/* SCRAM: the client asked for channel binding ("p="), which we do not offer. */
	SASL_FAIL_CHANNEL_BINDING,
	/* SCRAM: a mandatory extension ("m=") we do not know. */
	SASL_FAIL_EXTENSION,
	/* The passdb lookup failed temporarily, or the system did (no randomness). */
	SASL_FAIL_TEMP,
};

/* What the SCRAM credentials lookup found. */
enum sasl_lookup_result {
	SASL_LOOKUP_OK,
	SASL_LOOKUP_UNKNOWN_USER,
	/* The user exists but has no usable SCRAM credentials (e.g. SHA512-CRYPT). */
	SASL_LOOKUP_UNUSABLE,
	SASL_LOOKUP_TEMPFAIL,
};

/*
 * Looks up the SCRAM-SHA-256 credentials of user (as the client named it:
 * the callback applies auth_username_format and friends, typically through
 * password_scram_get() on the passdb entry). Synchronous.
 */
typedef enum sasl_lookup_result sasl_scram_lookup_fn(void *context, const char *user,
						     struct password_scram *creds_r);

struct sasl_server_settings {
	sasl_scram_lookup_fn *scram_lookup;
	void *context;
	/*
	 * Secret for the fake salts of unknown users: 32 random bytes the auth
	 * process makes once at start, so an unknown user always gets the same
	 * salt and cannot be told from a real one by asking twice.
	 */
	uint8_t fake_salt_key[32];
	/*
	 * Tests only: the server's part of the SCRAM nonce (printable ASCII,
	 * no ','). NULL in production: 18 random bytes, base64.
	 */
	const char *fixed_nonce;
};

struct sasl_session;

/* Finds a mechanism by its IANA name, case-insensitively (auth_mechanisms). */
bool sasl_mech_find(const char *name, enum sasl_mech_id *id_r);
/* The IANA name, e.g. "SCRAM-SHA-256". */
const char *sasl_mech_name(enum sasl_mech_id id);
/* Whether the mechanism sends the password in clear (disable_plaintext_auth applies). */
bool sasl_mech_is_plaintext(enum sasl_mech_id id);

/* A new exchange; settings are copied. Free with sasl_session_destroy(). */
struct sasl_session *sasl_session_create(enum sasl_mech_id id,
					 const struct sasl_server_settings *set);
/* Wipes the password and keys, frees, and sets *session to NULL. */
void sasl_session_destroy(struct sasl_session **session);

/*
 * Feeds one decoded client response. On the first call, data == NULL means
 * the client gave no initial response, while data != NULL with len 0 is an
 * empty one (IMAP's "="); on later calls NULL is the same as empty.
 * challenge_out is reset and gets the next challenge (raw bytes, for the
 * caller to base64) on SASL_CONTINUE; it must allow SASL_CHALLENGE_MAX
 * bytes. On SASL_FAILURE and SASL_MALFORMED, *error_r (if not NULL) gets a
 * static reason for the log. A finished exchange answers SASL_MALFORMED.
 *
 * SCRAM's server-final message ("v=...") comes as a last SASL_CONTINUE
 * challenge, and the client's empty response to it gives SASL_SUCCESS:
 * neither IMAP nor POP3 can carry data with a success reply.
 */
enum sasl_result sasl_step(struct sasl_session *session, const uint8_t *data, size_t len,
			   struct buf *challenge_out, const char **error_r);

/* The authentication identity once known (after SUCCESS, or the name that failed), else NULL. */
const char *sasl_session_user(const struct sasl_session *session);
/* PLAIN and LOGIN after SUCCESS: the password to check. NULL otherwise. */
const char *sasl_session_password(const struct sasl_session *session);
/* Whether the mechanism itself verified the password (SCRAM after SUCCESS). */
bool sasl_session_verified(const struct sasl_session *session);
enum sasl_failure sasl_session_failure(const struct sasl_session *session);
enum sasl_mech_id sasl_session_mech(const struct sasl_session *session);

#endif
