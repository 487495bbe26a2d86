/*
 * Dovecot-compatible password schemes: crypt(3) families through
 * libxcrypt's crypt_r, digests, PBKDF2 and HMAC through OpenSSL's EVP, and
 * a table that maps "{SCHEME}" names to them. Runs in roost-auth and
 * roostadm. Plaintexts come from remote clients and are only ever hashed
 * and compared in constant time; stored hashes are decoded strictly.
 */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "password.h"
#include "xalloc.h"

enum scheme_kind {
	KIND_PLAIN,
	KIND_CRYPT,
	KIND_DIGEST,
	KIND_SCRAM,
};

enum scheme_encoding {
	ENC_NONE,
	ENC_BASE64,
	ENC_HEX,
};

struct scheme {
	const char *name;
	enum scheme_kind kind;
	/* crypt: hash prefixes this scheme accepts (none listed = any), and the one it makes. */
	const char *crypt_accept[4];
	const char *crypt_generate;
	/* The name written in front of generated hashes, when not the scheme's own. */
	const char *generate_as;
	/* digest: the EVP digest, salted or not, and how the result is spelled. */
	const EVP_MD *(*md)(void);
	bool salted;
	enum scheme_encoding default_enc;
};

/* Dovecot makes 4-byte salts for the salted digests; we keep that shape. */
#define DIGEST_SALT_LEN 4
/* Salts longer than this in a stored salted digest are refused. */
#define DIGEST_SALT_MAX 256
#define DIGEST_MAX_LEN	EVP_MAX_MD_SIZE

static const struct scheme schemes[] = {
	{.name = "PLAIN", .kind = KIND_PLAIN},
	{.name = "CLEARTEXT", .kind = KIND_PLAIN},
	{.name = "CLEAR", .kind = KIND_PLAIN},
	/* Dovecot 2.3 generates bcrypt for plain CRYPT; any crypt(3) hash verifies. */
	{.name = "CRYPT", .kind = KIND_CRYPT, .crypt_generate = "$2y$"},
	{.name = "DES-CRYPT", .kind = KIND_CRYPT, .crypt_generate = ""},
	{.name = "MD5-CRYPT", .kind = KIND_CRYPT, .crypt_accept = {"$1$"}, .crypt_generate = "$1$"},
	{.name = "SHA256-CRYPT",
	 .kind = KIND_CRYPT,
	 .crypt_accept = {"$5$"},
	 .crypt_generate = "$5$"},
	{.name = "SHA512-CRYPT",
	 .kind = KIND_CRYPT,
	 .crypt_accept = {"$6$"},
	 .crypt_generate = "$6$"},
	{.name = "BLF-CRYPT",
	 .kind = KIND_CRYPT,
	 .crypt_accept = {"$2a$", "$2b$", "$2y$", "$2x$"},
	 .crypt_generate = "$2y$"},
	{.name = "YESCRYPT",
	 .kind = KIND_CRYPT,
	 .crypt_accept = {"$y$"},
	 .crypt_generate = "$y$",
	 .generate_as = "CRYPT"},
	{.name = "SHA", .kind = KIND_DIGEST, .md = EVP_sha1, .default_enc = ENC_BASE64},
	{.name = "SHA1", .kind = KIND_DIGEST, .md = EVP_sha1, .default_enc = ENC_BASE64},
	{.name = "SHA256", .kind = KIND_DIGEST, .md = EVP_sha256, .default_enc = ENC_BASE64},
	{.name = "SHA512", .kind = KIND_DIGEST, .md = EVP_sha512, .default_enc = ENC_BASE64},
	{.name = "SSHA",
	 .kind = KIND_DIGEST,
	 .md = EVP_sha1,
	 .salted = true,
	 .default_enc = ENC_BASE64},
	{.name = "SSHA256",
	 .kind = KIND_DIGEST,
	 .md = EVP_sha256,
	 .salted = true,
	 .default_enc = ENC_BASE64},
	{.name = "SSHA512",
	 .kind = KIND_DIGEST,
	 .md = EVP_sha512,
	 .salted = true,
	 .default_enc = ENC_BASE64},
	{.name = "PLAIN-MD5", .kind = KIND_DIGEST, .md = EVP_md5, .default_enc = ENC_HEX},
	{.name = "LDAP-MD5", .kind = KIND_DIGEST, .md = EVP_md5, .default_enc = ENC_BASE64},
	{.name = "SMD5",
	 .kind = KIND_DIGEST,
	 .md = EVP_md5,
	 .salted = true,
	 .default_enc = ENC_BASE64},
	{.name = "SCRAM-SHA-256", .kind = KIND_SCRAM},
};

/* A stored hash split into its scheme and the bytes after the prefix. */
struct parsed {
	const struct scheme *scheme;
	enum scheme_encoding enc;
	bool explicit_enc;
	const char *hash;
	size_t hash_len;
};

const char *const *password_scheme_names(void)
{
	static const char *names[N_ELEMENTS(schemes) + 1];
	size_t i;

	for (i = 0; i < N_ELEMENTS(schemes); i++)
		names[i] = schemes[i].name;
	names[i] = NULL;
	return names;
}

static const struct scheme *scheme_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_ELEMENTS(schemes); i++) {
		if (strlen(schemes[i].name) == len && strncasecmp(schemes[i].name, name, len) == 0)
			return &schemes[i];
	}
	return NULL;
}

/* Splits "NAME" or "NAME.ENC" (case-insensitive) into a scheme and an encoding. */
static enum password_result scheme_parse_name(const char *name, size_t len, struct parsed *p,
					      const char **error_r)
{
	const char *dot = memchr(name, '.', len);
	size_t base_len = dot == NULL ? len : (size_t)(dot - name);

	p->scheme = scheme_find(name, base_len);
	if (p->scheme == NULL) {
		*error_r = "Unknown scheme";
		return PASSWORD_UNKNOWN_SCHEME;
	}
	p->enc = p->scheme->default_enc;
	p->explicit_enc = false;
	if (dot == NULL)
		return PASSWORD_OK;

	const char *suffix = dot + 1;
	size_t suffix_len = len - base_len - 1;

	if (p->scheme->kind != KIND_PLAIN && p->scheme->kind != KIND_DIGEST) {
		*error_r =
			"Unknown scheme (an encoding suffix is only valid for digests and PLAIN)";
		return PASSWORD_UNKNOWN_SCHEME;
	}
	if (suffix_len == 3 && strncasecmp(suffix, "HEX", 3) == 0)
		p->enc = ENC_HEX;
	else if ((suffix_len == 3 && strncasecmp(suffix, "B64", 3) == 0) ||
		 (suffix_len == 6 && strncasecmp(suffix, "BASE64", 6) == 0))
		p->enc = ENC_BASE64;
	else {
		*error_r = "Unknown scheme (unknown encoding suffix)";
		return PASSWORD_UNKNOWN_SCHEME;
	}
	p->explicit_enc = true;
	return PASSWORD_OK;
}

static bool scheme_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/*
 * "{NAME}rest" when the braces hold a plausible scheme name; otherwise the
 * whole string is a hash in the default scheme (so a crypt hash or a plain
 * password that happens to start with '{' keeps working).
 */
static enum password_result stored_parse(const char *stored, const char *default_scheme,
					 struct parsed *p, const char **error_r)
{
	size_t len, i;

	if (stored == NULL) {
		*error_r = "No stored password";
		return PASSWORD_MALFORMED;
	}
	len = strnlen(stored, PASSWORD_STORED_MAX + 1);
	if (len > PASSWORD_STORED_MAX) {
		*error_r = "Stored password is too long";
		return PASSWORD_MALFORMED;
	}
	if (stored[0] == '{') {
		for (i = 1; i < len && i <= PASSWORD_SCHEME_NAME_MAX + 1; i++) {
			if (stored[i] == '}')
				break;
			if (!scheme_name_char(stored[i]))
				break;
		}
		if (i < len && i > 1 && stored[i] == '}') {
			p->hash = stored + i + 1;
			p->hash_len = len - i - 1;
			return scheme_parse_name(stored + 1, i - 1, p, error_r);
		}
	}
	if (default_scheme == NULL)
		default_scheme = PASSWORD_PASSWD_FILE_DEFAULT_SCHEME;
	p->hash = stored;
	p->hash_len = len;
	return scheme_parse_name(default_scheme, strlen(default_scheme), p, error_r);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex_decode(struct buf *out, const char *s, size_t len)
{
	size_t i;

	if (len % 2 != 0 || len / 2 > buf_room(out))
		return false;
	for (i = 0; i < len; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		buf_append_c(out, (uint8_t)(hi << 4 | lo));
	}
	return true;
}

static bool hex_encode(struct buf *out, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (len > buf_room(out) / 2)
		return false;
	for (i = 0; i < len; i++) {
		buf_append_c(out, (uint8_t)digits[p[i] >> 4]);
		buf_append_c(out, (uint8_t)digits[p[i] & 15]);
	}
	return true;
}

static bool all_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (hex_value(s[i]) < 0)
			return false;
	}
	return true;
}

/* Decodes the hash part of a PLAIN or digest scheme into raw bytes. */
static enum password_result stored_decode(const struct parsed *p, struct buf *raw,
					  const char **error_r)
{
	enum scheme_encoding enc = p->enc;

	if (p->scheme->kind == KIND_DIGEST && !p->explicit_enc && enc == ENC_BASE64 &&
	    !p->scheme->salted && p->hash_len == 2 * (size_t)EVP_MD_get_size(p->scheme->md()) &&
	    all_hex(p->hash, p->hash_len)) {
		/* A fixed-size digest spelled in hex, which Dovecot also accepts. */
		enc = ENC_HEX;
	}
	switch (enc) {
	case ENC_NONE:
		if (!buf_append(raw, p->hash, p->hash_len)) {
			*error_r = "Stored password is too long";
			return PASSWORD_MALFORMED;
		}
		return PASSWORD_OK;
	case ENC_HEX:
		if (!hex_decode(raw, p->hash, p->hash_len)) {
			*error_r = "Stored password is not valid hex";
			return PASSWORD_MALFORMED;
		}
		return PASSWORD_OK;
	case ENC_BASE64:
		if (base64_decode(raw, p->hash, p->hash_len) != BASE64_OK) {
			*error_r = "Stored password is not valid base64";
			return PASSWORD_MALFORMED;
		}
		return PASSWORD_OK;
	}
	*error_r = "Bad encoding";
	return PASSWORD_MALFORMED;
}

bool password_mem_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool password_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

void password_sha256(const void *data, size_t len, uint8_t out[PASSWORD_SCRAM_KEY_LEN])
{
	unsigned int olen = 0;

	if (EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL) != 1 ||
	    olen != PASSWORD_SCRAM_KEY_LEN) {
		/* OpenSSL's SHA-256 failing is not something input can cause. */
		abort();
	}
}

void password_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
			  uint8_t out[PASSWORD_SCRAM_KEY_LEN])
{
	unsigned int olen = 0;

	if (key_len > PASSWORD_PLAINTEXT_MAX ||
	    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &olen) == NULL ||
	    olen != PASSWORD_SCRAM_KEY_LEN)
		abort();
}

/* digest(plain || salt) into out; returns its length or 0 on OpenSSL failure. */
static unsigned int digest_compute(const EVP_MD *md, const char *plain, size_t plain_len,
				   const uint8_t *salt, size_t salt_len,
				   uint8_t out[DIGEST_MAX_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;

	if (ctx == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, plain, plain_len) != 1 ||
	    (salt_len > 0 && EVP_DigestUpdate(ctx, salt, salt_len) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &olen) != 1)
		olen = 0;
	EVP_MD_CTX_free(ctx);
	return olen;
}

static bool crypt_prefix_ok(const struct scheme *s, const char *hash)
{
	size_t i;

	if (s->crypt_accept[0] == NULL) {
		if (strcmp(s->name, "DES-CRYPT") != 0)
			return true;
		/* Traditional DES: exactly 13 characters of the crypt alphabet. */
		if (strlen(hash) != 13)
			return false;
		for (i = 0; i < 13; i++) {
			char c = hash[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '/'))
				return false;
		}
		return true;
	}
	for (i = 0; i < N_ELEMENTS(s->crypt_accept) && s->crypt_accept[i] != NULL; i++) {
		if (strncmp(hash, s->crypt_accept[i], strlen(s->crypt_accept[i])) == 0)
			return true;
	}
	return false;
}

/* Light shape check of a crypt hash: printable ASCII, right family. */
static enum password_result crypt_check(const struct parsed *p, const char **error_r)
{
	size_t i;

	if (p->hash_len == 0) {
		*error_r = "Empty crypt hash";
		return PASSWORD_MALFORMED;
	}
	for (i = 0; i < p->hash_len; i++) {
		if (p->hash[i] <= ' ' || p->hash[i] >= 0x7f) {
			*error_r = "Crypt hash contains invalid characters";
			return PASSWORD_MALFORMED;
		}
	}
	if (p->hash[0] == '!' || p->hash[0] == '*')
		return PASSWORD_OK; /* a locked account: valid, never matches */
	if (!crypt_prefix_ok(p->scheme, p->hash)) {
		*error_r = "Crypt hash does not belong to its scheme";
		return PASSWORD_MALFORMED;
	}
	return PASSWORD_OK;
}

static enum password_result crypt_verify(const struct parsed *p, const char *plaintext,
					 const char **error_r)
{
	enum password_result ret = crypt_check(p, error_r);
	struct crypt_data *cd;
	const char *res;

	if (ret != PASSWORD_OK)
		return ret;
	if (p->hash[0] == '!' || p->hash[0] == '*') {
		/* crypt_r's failure tokens start with '*': never compare against one. */
		*error_r = "Account is locked (hash starts with ! or *)";
		return PASSWORD_MISMATCH;
	}
	cd = i_calloc(1, sizeof(*cd));
	res = crypt_r(plaintext, p->hash, cd);
	if (res == NULL || res[0] == '*') {
		*error_r = "crypt() cannot use this hash (unsupported or corrupt)";
		ret = PASSWORD_MALFORMED;
	} else if (strlen(res) != p->hash_len || !password_mem_equal(res, p->hash, p->hash_len)) {
		*error_r = "Password mismatch";
		ret = PASSWORD_MISMATCH;
	} else {
		ret = PASSWORD_OK;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

static enum password_result digest_verify(const struct parsed *p, const char *plaintext,
					  size_t plain_len, const char **error_r)
{
	const EVP_MD *md = p->scheme->md();
	size_t md_len = (size_t)EVP_MD_get_size(md);
	struct buf raw = BUF_INIT(DIGEST_MAX_LEN + DIGEST_SALT_MAX);
	uint8_t digest[DIGEST_MAX_LEN];
	enum password_result ret;
	unsigned int n;

	ret = stored_decode(p, &raw, error_r);
	if (ret != PASSWORD_OK)
		goto out;
	if (p->scheme->salted ? buf_len(&raw) <= md_len : buf_len(&raw) != md_len) {
		*error_r = "Stored digest has the wrong length";
		ret = PASSWORD_MALFORMED;
		goto out;
	}
	if (plaintext == NULL) {
		ret = PASSWORD_OK;
		goto out;
	}
	n = digest_compute(md, plaintext, plain_len, buf_data(&raw) + md_len,
			   buf_len(&raw) - md_len, digest);
	if (n != md_len) {
		*error_r = "Digest computation failed";
		ret = PASSWORD_INTERNAL;
	} else if (!password_mem_equal(digest, buf_data(&raw), md_len)) {
		*error_r = "Password mismatch";
		ret = PASSWORD_MISMATCH;
	} else {
		ret = PASSWORD_OK;
	}
	explicit_bzero(digest, sizeof(digest));
out:
	buf_free_secret(&raw);
	return ret;
}

static enum password_result plain_verify(const struct parsed *p, const char *plaintext,
					 size_t plain_len, const char **error_r)
{
	struct buf raw = BUF_INIT(PASSWORD_STORED_MAX);
	uint8_t a[PASSWORD_SCRAM_KEY_LEN], b[PASSWORD_SCRAM_KEY_LEN];
	enum password_result ret;

	ret = stored_decode(p, &raw, error_r);
	if (ret != PASSWORD_OK || plaintext == NULL)
		goto out;
	/* Comparing digests keeps the stored password's length out of the timing. */
	password_sha256(plaintext, plain_len, a);
	password_sha256(buf_data(&raw), buf_len(&raw), b);
	if (!password_mem_equal(a, b, sizeof(a))) {
		*error_r = "Password mismatch";
		ret = PASSWORD_MISMATCH;
	}
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
out:
	buf_free_secret(&raw);
	return ret;
}

/* Parses "ITER,SALT,STOREDKEY,SERVERKEY" (each binary part base64). */
static enum password_result scram_parse(const char *s, size_t len, struct password_scram *r,
					const char **error_r)
{
	const char *end = s + len, *field[4];
	size_t field_len[4], i, n;
	unsigned long iter = 0;

	for (i = 0; i < 4; i++) {
		const char *comma = memchr(s, ',', (size_t)(end - s));

		if ((i < 3) != (comma != NULL)) {
			*error_r = "SCRAM hash must have 4 comma-separated fields";
			return PASSWORD_MALFORMED;
		}
		field[i] = s;
		field_len[i] = (size_t)((comma == NULL ? end : comma) - s);
		s = comma == NULL ? end : comma + 1;
	}
	if (field_len[0] == 0 || field_len[0] > 9) {
		*error_r = "SCRAM iteration count is invalid";
		return PASSWORD_MALFORMED;
	}
	for (i = 0; i < field_len[0]; i++) {
		if (field[0][i] < '0' || field[0][i] > '9') {
			*error_r = "SCRAM iteration count is invalid";
			return PASSWORD_MALFORMED;
		}
		iter = iter * 10 + (unsigned long)(field[0][i] - '0');
	}
	if (iter < 1 || iter > PASSWORD_SCRAM_ITER_MAX) {
		*error_r = "SCRAM iteration count is out of range";
		return PASSWORD_MALFORMED;
	}
	r->iterations = (unsigned int)iter;
	if (base64_decode_to(r->salt, sizeof(r->salt), field[1], field_len[1], &r->salt_len) !=
		    BASE64_OK ||
	    r->salt_len == 0) {
		*error_r = "SCRAM salt is invalid";
		return PASSWORD_MALFORMED;
	}
	if (base64_decode_to(r->stored_key, sizeof(r->stored_key), field[2], field_len[2], &n) !=
		    BASE64_OK ||
	    n != PASSWORD_SCRAM_KEY_LEN) {
		*error_r = "SCRAM stored key is invalid";
		return PASSWORD_MALFORMED;
	}
	if (base64_decode_to(r->server_key, sizeof(r->server_key), field[3], field_len[3], &n) !=
		    BASE64_OK ||
	    n != PASSWORD_SCRAM_KEY_LEN) {
		*error_r = "SCRAM server key is invalid";
		return PASSWORD_MALFORMED;
	}
	return PASSWORD_OK;
}

bool password_scram_derive(const void *password, size_t password_len, const uint8_t *salt,
			   size_t salt_len, unsigned int iterations,
			   uint8_t stored_key_r[PASSWORD_SCRAM_KEY_LEN],
			   uint8_t server_key_r[PASSWORD_SCRAM_KEY_LEN])
{
	uint8_t salted[PASSWORD_SCRAM_KEY_LEN], client_key[PASSWORD_SCRAM_KEY_LEN];
	static const char dummy = '\0';

	if (password_len > PASSWORD_PLAINTEXT_MAX || salt_len > PASSWORD_SCRAM_SALT_MAX ||
	    iterations < 1 || iterations > PASSWORD_SCRAM_ITER_MAX)
		return false;
	if (PKCS5_PBKDF2_HMAC(password_len == 0 ? &dummy : password, (int)password_len, salt,
			      (int)salt_len, (int)iterations, EVP_sha256(), sizeof(salted),
			      salted) != 1)
		return false;
	password_hmac_sha256(salted, sizeof(salted), "Client Key", 10, client_key);
	password_sha256(client_key, sizeof(client_key), stored_key_r);
	password_hmac_sha256(salted, sizeof(salted), "Server Key", 10, server_key_r);
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	return true;
}

/* Decodes one UTF-8 sequence at s[*pos]; -1 for anything not well-formed. */
static long utf8_next(const uint8_t *s, size_t len, size_t *pos)
{
	uint8_t c = s[*pos];
	size_t need, i;
	long cp, min;

	if (c < 0x80) {
		(*pos)++;
		return c;
	} else if (c >= 0xc2 && c <= 0xdf) {
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
		return -1;
	}
	if (len - *pos <= need)
		return -1;
	for (i = 1; i <= need; i++) {
		uint8_t cc = s[*pos + i];

		if ((cc & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (cc & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*pos += need + 1;
	return cp;
}

static bool saslprep_space(long cp)
{
	/* RFC 3454 C.1.2, minus U+200B which B.1 maps to nothing. */
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f ||
	       cp == 0x205f || cp == 0x3000;
}

static bool saslprep_nothing(long cp)
{
	/* RFC 3454 B.1: commonly mapped to nothing. */
	return cp == 0xad || cp == 0x34f || cp == 0x1806 || (cp >= 0x180b && cp <= 0x180d) ||
	       (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	       cp == 0xfeff;
}

static bool saslprep_prohibited(long cp)
{
	return cp < 0x20 || cp == 0x7f ||		     /* C.2.1 */
	       (cp >= 0x80 && cp <= 0x9f) ||		     /* C.2.2 */
	       cp == 0x6dd || cp == 0x70f || cp == 0x180e || /* C.2.2 */
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x2060 && cp <= 0x2063) ||
	       (cp >= 0x206a && cp <= 0x206f) || (cp >= 0xfff9 && cp <= 0xfffd) ||
	       (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe000 && cp <= 0xf8ff) ||
	       (cp >= 0xf0000) ||					     /* C.3 private use */
	       (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe ||  /* C.4 */
	       (cp >= 0x2ff0 && cp <= 0x2ffb) ||			     /* C.7 */
	       cp == 0x340 || cp == 0x341 || cp == 0x200e || cp == 0x200f || /* C.8 */
	       (cp >= 0x202a && cp <= 0x202e) || cp == 0xe0001 ||	     /* C.8, C.9 */
	       (cp >= 0xe0020 && cp <= 0xe007f);
}

bool password_saslprep(const char *in, struct buf *out, const char **error_r)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t len = strnlen(in, PASSWORD_PLAINTEXT_MAX + 1), pos = 0, start = buf_len(out);

	if (len > PASSWORD_PLAINTEXT_MAX) {
		*error_r = "Password is too long";
		return false;
	}
	while (pos < len) {
		size_t at = pos;
		long cp = utf8_next(s, len, &pos);
		bool ok;

		if (cp < 0) {
			*error_r = "Password is not valid UTF-8";
			goto fail;
		}
		if (saslprep_space(cp))
			ok = buf_append_c(out, ' ');
		else if (saslprep_nothing(cp))
			ok = true;
		else if (saslprep_prohibited(cp)) {
			*error_r = "Password contains a character SASLprep prohibits";
			goto fail;
		} else
			ok = buf_append(out, s + at, pos - at);
		if (!ok) {
			*error_r = "Password is too long";
			goto fail;
		}
	}
	return true;
fail:
	buf_truncate(out, start);
	return false;
}

static enum password_result scram_verify(const struct parsed *p, const char *plaintext,
					 const char **error_r)
{
	struct password_scram sc;
	struct buf prep = BUF_INIT(PASSWORD_PLAINTEXT_MAX);
	uint8_t stored[PASSWORD_SCRAM_KEY_LEN], server[PASSWORD_SCRAM_KEY_LEN];
	enum password_result ret;

	ret = scram_parse(p->hash, p->hash_len, &sc, error_r);
	if (ret != PASSWORD_OK || plaintext == NULL)
		goto out;
	if (!password_saslprep(plaintext, &prep, error_r)) {
		ret = PASSWORD_MISMATCH;
		goto out;
	}
	if (!password_scram_derive(buf_data(&prep), buf_len(&prep), sc.salt, sc.salt_len,
				   sc.iterations, stored, server)) {
		*error_r = "SCRAM key derivation failed";
		ret = PASSWORD_INTERNAL;
		goto out;
	}
	/* Both keys, combined without a data-dependent branch. */
	if (CRYPTO_memcmp(stored, sc.stored_key, sizeof(stored)) |
	    CRYPTO_memcmp(server, sc.server_key, sizeof(server))) {
		*error_r = "Password mismatch";
		ret = PASSWORD_MISMATCH;
	}
out:
	explicit_bzero(&sc, sizeof(sc));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(server, sizeof(server));
	buf_free_secret(&prep);
	return ret;
}

/* Verifies, or with plaintext NULL only checks the stored hash's shape. */
static enum password_result verify_or_check(const char *stored, const char *default_scheme,
					    const char *plaintext, const char **error_r)
{
	struct parsed p;
	enum password_result ret;
	size_t plain_len = 0;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	*error_r = NULL;
	ret = stored_parse(stored, default_scheme, &p, error_r);
	if (ret != PASSWORD_OK)
		return ret;
	if (plaintext != NULL) {
		plain_len = strnlen(plaintext, PASSWORD_PLAINTEXT_MAX + 1);
		if (plain_len > PASSWORD_PLAINTEXT_MAX) {
			/* Check the stored side anyway, so admins still learn it is broken. */
			ret = verify_or_check(stored, default_scheme, NULL, error_r);
			if (ret != PASSWORD_OK)
				return ret;
			*error_r = "Password is too long";
			return PASSWORD_MISMATCH;
		}
	}
	switch (p.scheme->kind) {
	case KIND_PLAIN:
		return plain_verify(&p, plaintext, plain_len, error_r);
	case KIND_CRYPT:
		if (plaintext == NULL)
			return crypt_check(&p, error_r);
		return crypt_verify(&p, plaintext, error_r);
	case KIND_DIGEST:
		return digest_verify(&p, plaintext, plain_len, error_r);
	case KIND_SCRAM:
		return scram_verify(&p, plaintext, error_r);
	}
	*error_r = "Unknown scheme kind";
	return PASSWORD_UNKNOWN_SCHEME;
}

enum password_result password_verify(const char *stored, const char *default_scheme,
				     const char *plaintext, const char **error_r)
{
	if (plaintext == NULL) {
		if (error_r != NULL)
			*error_r = "No password given";
		return PASSWORD_MISMATCH;
	}
	return verify_or_check(stored, default_scheme, plaintext, error_r);
}

enum password_result password_check(const char *stored, const char *default_scheme,
				    const char **error_r)
{
	return verify_or_check(stored, default_scheme, NULL, error_r);
}

bool password_get_scheme(const char *stored, const char *default_scheme, char *name_r, size_t size)
{
	struct parsed p;
	const char *error;

	if (stored_parse(stored, default_scheme, &p, &error) != PASSWORD_OK)
		return false;
	return str_copy(name_r, size, p.scheme->name);
}

enum password_result password_scram_get(const char *stored, const char *default_scheme,
					struct password_scram *scram_r, const char **error_r)
{
	struct parsed p;
	enum password_result ret;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	memset(scram_r, 0, sizeof(*scram_r));
	ret = stored_parse(stored, default_scheme, &p, error_r);
	if (ret != PASSWORD_OK)
		return ret;
	if (p.scheme->kind == KIND_SCRAM)
		return scram_parse(p.hash, p.hash_len, scram_r, error_r);
	if (p.scheme->kind != KIND_PLAIN) {
		*error_r = "Scheme cannot provide SCRAM-SHA-256 credentials";
		return PASSWORD_UNSUPPORTED;
	}

	struct buf raw = BUF_INIT(PASSWORD_STORED_MAX);
	struct buf prep = BUF_INIT(PASSWORD_PLAINTEXT_MAX);

	ret = stored_decode(&p, &raw, error_r);
	if (ret != PASSWORD_OK)
		goto out;
	if (memchr(buf_data(&raw), '\0', buf_len(&raw)) != NULL ||
	    !password_saslprep(buf_cstr(&raw), &prep, error_r)) {
		*error_r = "Stored plaintext password cannot be SASLprep'ed";
		ret = PASSWORD_MALFORMED;
		goto out;
	}
	scram_r->iterations = PASSWORD_SCRAM_ITER_DEFAULT;
	scram_r->salt_len = PASSWORD_SCRAM_SALT_LEN;
	if (!password_random(scram_r->salt, scram_r->salt_len)) {
		*error_r = "getrandom() failed";
		ret = PASSWORD_INTERNAL;
		goto out;
	}
	if (!password_scram_derive(buf_data(&prep), buf_len(&prep), scram_r->salt,
				   scram_r->salt_len, scram_r->iterations, scram_r->stored_key,
				   scram_r->server_key)) {
		*error_r = "SCRAM key derivation failed";
		ret = PASSWORD_INTERNAL;
	}
out:
	buf_free_secret(&raw);
	buf_free_secret(&prep);
	return ret;
}

/* ---- generation ---- */

static bool gen_crypt(const struct scheme *s, const char *plaintext, unsigned int rounds,
		      struct buf *out, const char **error_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *prefix = s->crypt_generate;
	unsigned long count = rounds;
	struct crypt_data *cd;
	const char *res;
	bool ok;

	if (strcmp(prefix, "$2y$") == 0) {
		/* Dovecot's default bcrypt cost, so the output matches doveadm's. */
		if (count == 0)
			count = 5;
		if (count < 4 || count > 31) {
			*error_r = "bcrypt cost must be between 4 and 31";
			return false;
		}
	} else if (strcmp(prefix, "$5$") == 0 || strcmp(prefix, "$6$") == 0) {
		if (count != 0 && (count < 1000 || count > 999999999)) {
			*error_r = "SHA-crypt rounds must be between 1000 and 999999999";
			return false;
		}
	} else if (strcmp(prefix, "$y$") == 0) {
		if (count > 11) {
			*error_r = "yescrypt cost must be between 1 and 11";
			return false;
		}
	} else if (count != 0) {
		*error_r = "This scheme has no rounds parameter";
		return false;
	}
	if (crypt_gensalt_rn(prefix, count, NULL, 0, setting, sizeof(setting)) == NULL) {
		*error_r = "crypt_gensalt() failed (scheme not supported by libxcrypt?)";
		return false;
	}
	cd = i_calloc(1, sizeof(*cd));
	res = crypt_r(plaintext, setting, cd);
	ok = res != NULL && res[0] != '*';
	if (!ok)
		*error_r = "crypt() failed";
	else if (!buf_printf(out, "{%s}%s", s->generate_as != NULL ? s->generate_as : s->name,
			     res)) {
		*error_r = "Output buffer is full";
		ok = false;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static bool gen_encoded(struct buf *out, enum scheme_encoding enc, const uint8_t *p, size_t len)
{
	switch (enc) {
	case ENC_NONE:
		return buf_append(out, p, len);
	case ENC_HEX:
		return hex_encode(out, p, len);
	case ENC_BASE64:
		return base64_encode(out, p, len);
	}
	return false;
}

static bool gen_digest(const struct parsed *p, const char *name, const char *plaintext,
		       struct buf *out, const char **error_r)
{
	const EVP_MD *md = p->scheme->md();
	uint8_t raw[DIGEST_MAX_LEN + DIGEST_SALT_LEN];
	size_t salt_len = p->scheme->salted ? DIGEST_SALT_LEN : 0;
	unsigned int n;
	bool ok;

	if (salt_len > 0 && !password_random(raw + EVP_MD_get_size(md), salt_len)) {
		*error_r = "getrandom() failed";
		return false;
	}
	n = digest_compute(md, plaintext, strlen(plaintext), raw + EVP_MD_get_size(md), salt_len,
			   raw);
	if (n == 0) {
		*error_r = "Digest computation failed";
		return false;
	}
	ok = buf_printf(out, "{%s}", name) && gen_encoded(out, p->enc, raw, n + salt_len);
	if (!ok)
		*error_r = "Output buffer is full";
	return ok;
}

static bool gen_scram(const char *plaintext, unsigned int rounds, struct buf *out,
		      const char **error_r)
{
	struct password_scram sc;
	struct buf prep = BUF_INIT(PASSWORD_PLAINTEXT_MAX);
	bool ok = false;

	memset(&sc, 0, sizeof(sc));
	sc.iterations = rounds == 0 ? PASSWORD_SCRAM_ITER_DEFAULT : rounds;
	if (sc.iterations < 4096 || sc.iterations > PASSWORD_SCRAM_ITER_MAX) {
		*error_r = "SCRAM iterations must be between 4096 and 1000000";
		goto out;
	}
	if (!password_saslprep(plaintext, &prep, error_r))
		goto out;
	sc.salt_len = PASSWORD_SCRAM_SALT_LEN;
	if (!password_random(sc.salt, sc.salt_len)) {
		*error_r = "getrandom() failed";
		goto out;
	}
	if (!password_scram_derive(buf_data(&prep), buf_len(&prep), sc.salt, sc.salt_len,
				   sc.iterations, sc.stored_key, sc.server_key)) {
		*error_r = "SCRAM key derivation failed";
		goto out;
	}
	ok = buf_printf(out, "{SCRAM-SHA-256}%u,", sc.iterations) &&
	     base64_encode(out, sc.salt, sc.salt_len) && buf_append_c(out, ',') &&
	     base64_encode(out, sc.stored_key, sizeof(sc.stored_key)) && buf_append_c(out, ',') &&
	     base64_encode(out, sc.server_key, sizeof(sc.server_key));
	if (!ok)
		*error_r = "Output buffer is full";
out:
	explicit_bzero(&sc, sizeof(sc));
	buf_free_secret(&prep);
	return ok;
}

bool password_generate(const char *scheme, const char *plaintext, unsigned int rounds,
		       struct buf *out, const char **error_r)
{
	struct parsed p;
	char name[PASSWORD_SCHEME_NAME_MAX + 1];
	size_t i, len, start = buf_len(out);
	bool ok = false;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	if (scheme == NULL)
		scheme = PASSWORD_GENERATE_DEFAULT_SCHEME;
	len = strlen(scheme);
	if (len == 0 || len > PASSWORD_SCHEME_NAME_MAX ||
	    scheme_parse_name(scheme, len, &p, error_r) != PASSWORD_OK) {
		*error_r = "Unknown scheme";
		return false;
	}
	for (i = 0; i < len; i++) {
		if (!scheme_name_char(scheme[i])) {
			*error_r = "Unknown scheme";
			return false;
		}
		name[i] = (char)(scheme[i] >= 'a' && scheme[i] <= 'z' ? scheme[i] - 32 : scheme[i]);
	}
	name[len] = '\0';
	if (plaintext == NULL ||
	    strnlen(plaintext, PASSWORD_PLAINTEXT_MAX + 1) > PASSWORD_PLAINTEXT_MAX) {
		*error_r = "Password is missing or too long";
		return false;
	}
	if (rounds != 0 && p.scheme->kind != KIND_CRYPT && p.scheme->kind != KIND_SCRAM) {
		*error_r = "This scheme has no rounds parameter";
		return false;
	}
	switch (p.scheme->kind) {
	case KIND_PLAIN:
		ok = buf_printf(out, "{%s}", name) &&
		     gen_encoded(out, p.enc, (const uint8_t *)plaintext, strlen(plaintext));
		if (!ok)
			*error_r = "Output buffer is full";
		break;
	case KIND_CRYPT:
		ok = gen_crypt(p.scheme, plaintext, rounds, out, error_r);
		break;
	case KIND_DIGEST:
		ok = gen_digest(&p, name, plaintext, out, error_r);
		break;
	case KIND_SCRAM:
		ok = gen_scram(plaintext, rounds, out, error_r);
		break;
	}
	if (!ok)
		buf_truncate(out, start);
	return ok;
}
