/*
 * Server-side TLS over OpenSSL 3 (see tls.h). Runs in roost-login, which
 * terminates TLS for many clients per process: every connection is set up to
 * cost as little memory as possible while idle (buffers released, no session
 * cache, no tickets), and socket I/O goes through a small BIO of our own so
 * that the system calls OpenSSL makes after initialisation are known.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "tls/tls.h"
#include "xalloc.h"

#define TLS_ERROR_MAX	 512
#define TLS_SECURITY_MAX 160

struct tls_context {
	SSL_CTX *ctx;
};

struct tls_conn {
	SSL *ssl;
	int fd;
	int last_errno; /* errno of the last failed recv/send */
	bool handshake_done;
	bool failed; /* TLS_ERROR or TLS_CLOSED seen: no more protocol traffic */
	char error[TLS_ERROR_MAX];
	char security[TLS_SECURITY_MAX];
};

static BIO_METHOD *sock_method;

/* The socket BIO: recv/send with MSG_NOSIGNAL, errno kept for messages. */
static int sock_write(BIO *bio, const char *data, int len)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	do {
		ret = send(conn->fd, data, (size_t)len, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		conn->last_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(bio);
		return -1;
	}
	return (int)ret;
}

static int sock_read(BIO *bio, char *buf, int len)
{
	struct tls_conn *conn = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	do {
		ret = recv(conn->fd, buf, (size_t)len, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		conn->last_errno = errno;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(bio);
		return -1;
	}
	if (ret == 0)
		conn->last_errno = 0;
	return (int)ret;
}

static long sock_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	(void)bio;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* nothing is buffered here */
	default:
		return 0;
	}
}

static int sock_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static bool sock_method_init(void)
{
	BIO_METHOD *m;

	if (sock_method != NULL)
		return true;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
			 "roost socket");
	if (m == NULL || BIO_meth_set_write(m, sock_write) != 1 ||
	    BIO_meth_set_read(m, sock_read) != 1 || BIO_meth_set_ctrl(m, sock_ctrl) != 1 ||
	    BIO_meth_set_create(m, sock_create) != 1) {
		BIO_meth_free(m);
		return false;
	}
	sock_method = m;
	return true;
}

/* Appends OpenSSL's queued errors ("error:...:reason, error:..."), clearing it. */
static void append_openssl_errors(char *dst, size_t size)
{
	unsigned long e;
	bool first = true;

	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (!first)
			(void)str_append(dst, size, ", ");
		(void)str_append(dst, size, one);
		first = false;
	}
	if (first)
		(void)str_append(dst, size, "Unknown error");
}

static char *context_error(const char *setting, const char *what)
{
	char msg[1024];

	(void)str_format(msg, sizeof(msg), "%s%s%s: ", setting, setting[0] != '\0' ? ": " : "",
			 what);
	append_openssl_errors(msg, sizeof(msg));
	return i_strdup(msg);
}

static bool str_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static int password_cb(char *buf, int size, int rwflag, void *u)
{
	const char *password = u;
	size_t len;

	(void)rwflag;
	/* Never fall back to prompting on a terminal. */
	if (password == NULL)
		return 0;
	len = strlen(password);
	if (size < 0 || len > (size_t)size)
		return 0;
	memcpy(buf, password, len);
	return (int)len;
}

static bool parse_min_protocol(const char *name, int *version_r)
{
	static const struct {
		const char *name;
		int version;
	} protocols[] = {
		{"ANY", 0},
		{"TLSv1", TLS1_VERSION},
		{"TLSv1.1", TLS1_1_VERSION},
		{"TLSv1.2", TLS1_2_VERSION},
		{"TLSv1.3", TLS1_3_VERSION},
	};

	if (str_empty(name)) {
		*version_r = TLS1_2_VERSION;
		return true;
	}
	for (size_t i = 0; i < N_ELEMENTS(protocols); i++) {
		if (strcmp(name, protocols[i].name) == 0) {
			*version_r = protocols[i].version;
			return true;
		}
	}
	return false;
}

static BIO *mem_bio(const char *pem, size_t len)
{
	if (len > INT32_MAX)
		return NULL;
	return BIO_new_mem_buf(pem, (int)len);
}

/* ssl_cert: the leaf certificate, then any intermediates. */
static bool load_chain(SSL_CTX *ctx, const struct tls_settings *set, char **error_r)
{
	BIO *bio = mem_bio(set->cert_pem, set->cert_pem_len);
	X509 *x;

	if (bio == NULL) {
		*error_r = context_error("ssl_cert", "Can't read the certificate");
		return false;
	}
	x = PEM_read_bio_X509_AUX(bio, NULL, password_cb, NULL);
	if (x == NULL) {
		BIO_free(bio);
		*error_r = context_error("ssl_cert", "Can't load the certificate (not PEM?)");
		return false;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		X509_free(x);
		BIO_free(bio);
		*error_r = context_error("ssl_cert", "Can't use the certificate");
		return false;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, password_cb, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(bio);
			*error_r = context_error("ssl_cert", "Can't add a chain certificate");
			return false;
		}
	}
	BIO_free(bio);
	/* The loop ends on "no start line", which is not an error. */
	unsigned long e = ERR_peek_last_error();

	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return true;
	}
	if (e != 0) {
		*error_r = context_error("ssl_cert", "Can't read a chain certificate");
		return false;
	}
	return true;
}

static bool load_key(SSL_CTX *ctx, const struct tls_settings *set, char **error_r)
{
	BIO *bio = mem_bio(set->key_pem, set->key_pem_len);
	EVP_PKEY *pkey;
	char *password = str_empty(set->key_password) ? NULL : i_strdup(set->key_password);

	if (bio == NULL) {
		free(password);
		*error_r = context_error("ssl_key", "Can't read the private key");
		return false;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, password_cb, password);
	BIO_free(bio);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (pkey == NULL) {
		*error_r = context_error(
			"ssl_key",
			str_empty(set->key_password)
				? "Can't load the private key (encrypted? set ssl_key_password)"
				: "Can't load the private key (wrong ssl_key_password?)");
		return false;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		EVP_PKEY_free(pkey);
		*error_r = context_error("ssl_key", "Private key does not match the certificate");
		return false;
	}
	EVP_PKEY_free(pkey);
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = context_error("ssl_key", "Private key does not match the certificate");
		return false;
	}
	return true;
}

static bool load_dh(SSL_CTX *ctx, const struct tls_settings *set, char **error_r)
{
	BIO *bio;
	EVP_PKEY *dh;

	if (set->dh_pem == NULL || set->dh_pem_len == 0) {
		/* RFC 7919 groups matched to the certificate's strength. */
		(void)SSL_CTX_set_dh_auto(ctx, 1);
		return true;
	}
	bio = mem_bio(set->dh_pem, set->dh_pem_len);
	dh = bio == NULL ? NULL : PEM_read_bio_Parameters(bio, NULL);
	BIO_free(bio);
	if (dh == NULL) {
		*error_r = context_error("ssl_dh", "Can't load DH parameters");
		return false;
	}
	if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		*error_r = context_error("ssl_dh", "Can't use DH parameters");
		return false;
	}
	return true;
}

/*
 * Everything that might touch the filesystem happens here, before the
 * sandbox: the configuration file and the providers it names, the error
 * strings, and the first seeding of the public and private DRBGs.
 */
static bool tls_library_init(char **error_r)
{
	static bool done;
	unsigned char tmp[16];

	if (done)
		return true;
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_LOAD_SSL_STRINGS |
				     OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
			     NULL) != 1) {
		*error_r = context_error("", "OpenSSL initialisation failed");
		return false;
	}
	if (RAND_bytes(tmp, sizeof(tmp)) != 1 || RAND_priv_bytes(tmp, sizeof(tmp)) != 1) {
		*error_r = context_error("", "OpenSSL random generator is not seeded");
		return false;
	}
	explicit_bzero(tmp, sizeof(tmp));
	if (!sock_method_init()) {
		*error_r = context_error("", "Can't create the socket BIO");
		return false;
	}
	done = true;
	return true;
}

struct tls_context *tls_context_create(const struct tls_settings *set, char **error_r)
{
	struct tls_context *tctx;
	SSL_CTX *ctx;
	int min_version;

	*error_r = NULL;
	ERR_clear_error();
	if (!tls_library_init(error_r))
		return NULL;
	if (!parse_min_protocol(set->min_protocol, &min_version)) {
		char msg[256];

		(void)str_format(msg, sizeof(msg),
				 "ssl_min_protocol: Unknown protocol '%s' "
				 "(use TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or ANY)",
				 set->min_protocol);
		*error_r = i_strdup(msg);
		return NULL;
	}
	if (set->cert_pem == NULL || set->cert_pem_len == 0 || set->key_pem == NULL ||
	    set->key_pem_len == 0) {
		*error_r = i_strdup(set->cert_pem == NULL || set->cert_pem_len == 0
					    ? "ssl_cert: No certificate given"
					    : "ssl_key: No private key given");
		return NULL;
	}
	ctx = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
	if (ctx == NULL) {
		*error_r = context_error("", "SSL_CTX_new() failed");
		return NULL;
	}
	/*
	 * Idle connections should cost little: release record buffers when
	 * empty, no server-side session cache, no tickets (whose keys would
	 * also weaken forward secrecy for the life of the process).
	 */
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
					    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	(void)SSL_CTX_set_options(
		ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
			     SSL_OP_IGNORE_UNEXPECTED_EOF |
			     (set->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
		*error_r = context_error("ssl_min_protocol", "Can't set the minimum protocol");
		goto fail;
	}
	if (!str_empty(set->cipher_list) && SSL_CTX_set_cipher_list(ctx, set->cipher_list) != 1) {
		*error_r = context_error("ssl_cipher_list", "No usable cipher in the list");
		goto fail;
	}
	if (!str_empty(set->cipher_suites) &&
	    SSL_CTX_set_ciphersuites(ctx, set->cipher_suites) != 1) {
		*error_r = context_error("ssl_cipher_suites", "No usable TLS 1.3 cipher suite");
		goto fail;
	}
	if (!str_empty(set->curve_list) && SSL_CTX_set1_groups_list(ctx, set->curve_list) != 1) {
		*error_r = context_error("ssl_curve_list", "Unknown or unusable curve in the list");
		goto fail;
	}
	if (!load_chain(ctx, set, error_r) || !load_key(ctx, set, error_r) ||
	    !load_dh(ctx, set, error_r))
		goto fail;
	tctx = i_calloc(1, sizeof(*tctx));
	tctx->ctx = ctx;
	return tctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

void tls_context_free(struct tls_context **ctx)
{
	if (*ctx == NULL)
		return;
	SSL_CTX_free((*ctx)->ctx);
	free(*ctx);
	*ctx = NULL;
}

struct tls_conn *tls_conn_create(struct tls_context *ctx, int fd, char **error_r)
{
	struct tls_conn *conn = i_calloc(1, sizeof(*conn));
	BIO *bio;

	*error_r = NULL;
	ERR_clear_error();
	conn->fd = fd;
	conn->ssl = SSL_new(ctx->ctx);
	bio = BIO_new(sock_method);
	if (conn->ssl == NULL || bio == NULL) {
		BIO_free(bio);
		SSL_free(conn->ssl);
		free(conn);
		*error_r = context_error("", "SSL_new() failed");
		return NULL;
	}
	BIO_set_data(bio, conn);
	SSL_set_bio(conn->ssl, bio, bio);
	SSL_set_accept_state(conn->ssl);
	return conn;
}

void tls_conn_free(struct tls_conn **conn)
{
	if (*conn == NULL)
		return;
	SSL_free((*conn)->ssl);
	free(*conn);
	*conn = NULL;
}

/* Maps an SSL_*() return value to a result, filling conn->error. */
static enum tls_result conn_result(struct tls_conn *conn, int ret, const char *func)
{
	int err = SSL_get_error(conn->ssl, ret);

	conn->error[0] = '\0';
	switch (err) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		(void)str_format(conn->error, sizeof(conn->error), "%s failed: Connection closed",
				 func);
		conn->failed = true;
		return TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0)
			break;
		conn->failed = true;
		if (conn->last_errno == 0) {
			(void)str_format(conn->error, sizeof(conn->error),
					 "%s failed: Connection closed", func);
			return TLS_CLOSED;
		}
		(void)str_format(conn->error, sizeof(conn->error), "%s syscall failed: %s", func,
				 strerror(conn->last_errno));
		return TLS_ERROR;
	default:
		break;
	}
	(void)str_format(conn->error, sizeof(conn->error), "%s failed: ", func);
	append_openssl_errors(conn->error, sizeof(conn->error));
	conn->failed = true;
	return TLS_ERROR;
}

enum tls_result tls_conn_handshake(struct tls_conn *conn)
{
	int ret;

	if (conn->handshake_done)
		return TLS_OK;
	ERR_clear_error();
	conn->last_errno = 0;
	ret = SSL_do_handshake(conn->ssl);
	if (ret == 1) {
		conn->handshake_done = true;
		conn->error[0] = '\0';
		return TLS_OK;
	}
	return conn_result(conn, ret, "SSL_accept()");
}

enum tls_result tls_conn_read(struct tls_conn *conn, void *buf, size_t size, size_t *read_r)
{
	size_t n = 0;

	*read_r = 0;
	ERR_clear_error();
	conn->last_errno = 0;
	if (SSL_read_ex(conn->ssl, buf, size, &n) == 1) {
		*read_r = n;
		return TLS_OK;
	}
	return conn_result(conn, 0, conn->handshake_done ? "SSL_read()" : "SSL_accept()");
}

enum tls_result tls_conn_write(struct tls_conn *conn, const void *data, size_t size,
			       size_t *written_r)
{
	size_t n = 0;

	*written_r = 0;
	if (size == 0)
		return TLS_OK;
	ERR_clear_error();
	conn->last_errno = 0;
	if (SSL_write_ex(conn->ssl, data, size, &n) == 1) {
		*written_r = n;
		return TLS_OK;
	}
	return conn_result(conn, 0, conn->handshake_done ? "SSL_write()" : "SSL_accept()");
}

enum tls_result tls_conn_shutdown(struct tls_conn *conn)
{
	int ret;

	/* OpenSSL forbids SSL_shutdown() after a fatal error or mid-handshake. */
	if (conn->failed || !conn->handshake_done)
		return TLS_OK;
	ERR_clear_error();
	conn->last_errno = 0;
	ret = SSL_shutdown(conn->ssl);
	/* 0: our close_notify is out; we do not wait for the peer's. */
	if (ret >= 0)
		return TLS_OK;
	return conn_result(conn, ret, "SSL_shutdown()");
}

bool tls_conn_pending(const struct tls_conn *conn)
{
	return SSL_has_pending(conn->ssl) == 1;
}

const char *tls_conn_error(const struct tls_conn *conn)
{
	return conn->error;
}

bool tls_conn_handshake_done(const struct tls_conn *conn)
{
	return conn->handshake_done;
}

const char *tls_conn_protocol(const struct tls_conn *conn)
{
	return conn->handshake_done ? SSL_get_version(conn->ssl) : "";
}

const char *tls_conn_cipher(const struct tls_conn *conn)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);

	return conn->handshake_done && cipher != NULL ? SSL_CIPHER_get_name(cipher) : "";
}

const char *tls_conn_security_string(struct tls_conn *conn)
{
	const SSL_CIPHER *cipher;
	int bits, alg_bits = 0;

	if (!conn->handshake_done)
		return "";
	if (conn->security[0] != '\0')
		return conn->security;
	cipher = SSL_get_current_cipher(conn->ssl);
	if (cipher == NULL)
		return "";
	bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
	(void)str_format(conn->security, sizeof(conn->security), "%s with cipher %s (%d/%d bits)",
			 SSL_get_version(conn->ssl), SSL_CIPHER_get_name(cipher), bits, alg_bits);
	return conn->security;
}
