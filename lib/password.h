/*
 * Password schemes in Dovecot's "{SCHEME}hash" format: verifying a
 * plaintext against a stored hash, generating new hashes, and the SCRAM
 * key material the SCRAM-SHA-256 mechanism needs. Runs in roost-auth (on
 * plaintexts from remote clients: hostile) and in roostadm; stored hashes
 * come from the administrator's passdb files and are checked, not trusted.
 */
#ifndef ROOST_PASSWORD_H
#define ROOST_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest plaintext accepted; longer ones never match (an attacker's knob). */
#define PASSWORD_PLAINTEXT_MAX 4096
/* Longest stored hash accepted, "{SCHEME}" included. */
#define PASSWORD_STORED_MAX 1024
/* Longest scheme name between the braces, encoding suffix included. */
#define PASSWORD_SCHEME_NAME_MAX 32
/* The scheme `roostadm pw` uses without -s. */
#define PASSWORD_GENERATE_DEFAULT_SCHEME "SHA512-CRYPT"
/* The scheme a passwd-file hash without a prefix is in, unless scheme= says otherwise. */
#define PASSWORD_PASSWD_FILE_DEFAULT_SCHEME "CRYPT"

/* SCRAM-SHA-256 (RFC 7677) key material. */
#define PASSWORD_SCRAM_KEY_LEN	    32
#define PASSWORD_SCRAM_SALT_MAX	    128
#define PASSWORD_SCRAM_SALT_LEN	    16
#define PASSWORD_SCRAM_ITER_DEFAULT 4096
/* Stored iteration counts above this are refused: each verify would stall auth. */
#define PASSWORD_SCRAM_ITER_MAX 1000000

enum password_result {
	/* The plaintext matches the stored hash. */
	PASSWORD_OK = 0,
	/* It does not (also: plaintext too long, locked "!"/"*" crypt hash). */
	PASSWORD_MISMATCH,
	/* The "{SCHEME}" prefix (or the default scheme) names no scheme we know. */
	PASSWORD_UNKNOWN_SCHEME,
	/* The stored hash cannot be used: bad encoding, wrong length, not crypt(3). */
	PASSWORD_MALFORMED,
	/* The scheme cannot give what was asked (SCRAM keys from a crypt hash). */
	PASSWORD_UNSUPPORTED,
	/* The system failed us (no randomness): a temporary failure. */
	PASSWORD_INTERNAL,
};

/*
 * Checks plaintext against stored. A stored hash without a "{SCHEME}" prefix
 * is in default_scheme (e.g. the passwd-file scheme= argument; NULL means
 * PASSWORD_PASSWD_FILE_DEFAULT_SCHEME). Scheme names are case-insensitive and
 * may carry an encoding suffix ".HEX" or ".B64"/".BASE64" for the digest
 * schemes (SHA256.HEX); a plain SHA256 hash spelled in hex is accepted too.
 * Comparisons are constant-time. On anything but PASSWORD_OK, *error_r (if
 * not NULL) gets a static English reason for the log, never for the client.
 */
enum password_result password_verify(const char *stored, const char *default_scheme,
				     const char *plaintext, const char **error_r);

/*
 * Checks that stored is usable without a plaintext: the scheme is known and
 * the hash decodes to the right shape. For passdb loading and for admins.
 * Returns PASSWORD_OK, PASSWORD_UNKNOWN_SCHEME or PASSWORD_MALFORMED.
 */
enum password_result password_check(const char *stored, const char *default_scheme,
				    const char **error_r);

/*
 * The scheme stored is in, upper-cased and without encoding suffix, copied
 * into name_r[size]. Returns false when the name does not fit or is unknown.
 */
bool password_get_scheme(const char *stored, const char *default_scheme, char *name_r, size_t size);

/*
 * Appends "{SCHEME}hash" for plaintext to out, shaped like Dovecot 2.3's
 * `doveadm pw -s SCHEME` prints it (CRYPT gives bcrypt "$2y$05$", as
 * doveadm does; YESCRYPT gives "{CRYPT}$y$..." so Dovecot reads it too).
 * rounds 0 is the scheme's default; otherwise it is the bcrypt cost (4-31),
 * the SHA*-CRYPT rounds (1000-999999999), the yescrypt cost (1-11) or the
 * SCRAM iteration count (4096-PASSWORD_SCRAM_ITER_MAX); other schemes
 * refuse a non-zero value. Returns false with *error_r set for an unknown
 * scheme ("Unknown scheme: X"), a bad rounds value, a plaintext that is too
 * long or not SASLprep-able (SCRAM), a full buffer, or no randomness.
 */
bool password_generate(const char *scheme, const char *plaintext, unsigned int rounds,
		       struct buf *out, const char **error_r);

/* NULL-terminated list of the scheme names we know, for `roostadm pw -l`. */
const char *const *password_scheme_names(void);

/* Parsed SCRAM-SHA-256 credentials: Dovecot's "iter,salt,storedkey,serverkey". */
struct password_scram {
	unsigned int iterations;
	size_t salt_len;
	uint8_t salt[PASSWORD_SCRAM_SALT_MAX];
	uint8_t stored_key[PASSWORD_SCRAM_KEY_LEN];
	uint8_t server_key[PASSWORD_SCRAM_KEY_LEN];
};

/*
 * Fills *scram_r with the SCRAM-SHA-256 credentials of stored: parsed from a
 * {SCRAM-SHA-256} hash, or derived from a PLAIN/CLEARTEXT password with a
 * fresh random salt and PASSWORD_SCRAM_ITER_DEFAULT iterations. Returns
 * PASSWORD_OK, PASSWORD_UNKNOWN_SCHEME, PASSWORD_MALFORMED,
 * PASSWORD_UNSUPPORTED (any other scheme) or PASSWORD_INTERNAL.
 */
enum password_result password_scram_get(const char *stored, const char *default_scheme,
					struct password_scram *scram_r, const char **error_r);

/*
 * RFC 5802 key derivation: SaltedPassword = PBKDF2-HMAC-SHA-256(password,
 * salt, iterations), StoredKey = H(HMAC(SaltedPassword, "Client Key")),
 * ServerKey = HMAC(SaltedPassword, "Server Key"). The password must already
 * be SASLprep'ed. Returns false only when OpenSSL fails.
 */
bool password_scram_derive(const void *password, size_t password_len, const uint8_t *salt,
			   size_t salt_len, unsigned int iterations,
			   uint8_t stored_key_r[PASSWORD_SCRAM_KEY_LEN],
			   uint8_t server_key_r[PASSWORD_SCRAM_KEY_LEN]);

/*
 * SASLprep (RFC 4013) of a UTF-8 password, simplified: non-ASCII spaces map
 * to SPACE, "mapped to nothing" characters are dropped, and control,
 * private-use, non-character, surrogate, bidi-control and tagging code
 * points are refused, as is invalid UTF-8. NFKC normalization and the bidi
 * rule are NOT applied, so a non-ASCII password must be typed in the same
 * normalization form it was stored in. Appends to out; false with *error_r
 * set when refused or out is full.
 */
bool password_saslprep(const char *in, struct buf *out, const char **error_r);

/* SHA-256 and HMAC-SHA-256, for the SCRAM mechanism. */
void password_sha256(const void *data, size_t len, uint8_t out[PASSWORD_SCRAM_KEY_LEN]);
void password_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			  uint8_t out[PASSWORD_SCRAM_KEY_LEN]);
/* Constant-time equality of two len-byte areas. */
bool password_mem_equal(const void *a, const void *b, size_t len);
/* Fills buf with len bytes from the kernel's CSPRNG; false if it fails. */
bool password_random(void *buf, size_t len);

#endif
