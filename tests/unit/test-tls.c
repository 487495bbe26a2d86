/*
 * Unit tests for lib/tls: certificates and keys are made at test time with
 * OpenSSL's EVP API, and real handshakes run over non-blocking socketpairs
 * against an OpenSSL client in the same process. Covers data both ways, the
 * protocol floor, certificate chains, encrypted keys, DH parameters, error
 * texts, heap per idle connection, and a handshake inside roost's seccomp
 * sandbox with only the base system calls allowed after initialisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sandbox/sandbox.h"
#include "tls/tls.h"

/* A key and certificate, both as objects and as PEM text. */
struct cred {
	EVP_PKEY *key;
	X509 *cert;
	char *key_pem;
	char *cert_pem;
};

static char *bio_to_string(BIO *bio)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	char *s = malloc((size_t)len + 1);

	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	BIO_free(bio);
	return s;
}

static EVP_PKEY *make_key(bool rsa)
{
	EVP_PKEY *key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");

	assert_non_null(key);
	return key;
}

/* A certificate for cn signed by issuer (self-signed when issuer is NULL). */
static void make_cred(struct cred *c, const char *cn, bool rsa, const struct cred *issuer, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	BIO *bio;

	c->key = make_key(rsa);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0xffffff) + 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, c->key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer->cert) : name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer->cert : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				  ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, issuer != NULL ? issuer->key : c->key, EVP_sha256()) > 0);
	c->cert = x;
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, x);
	c->cert_pem = bio_to_string(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, c->key, NULL, NULL, 0, NULL, NULL);
	c->key_pem = bio_to_string(bio);
}

static void free_cred(struct cred *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	free(c->key_pem);
	free(c->cert_pem);
	memset(c, 0, sizeof(*c));
}

static struct cred rsa_cred, ec_cred;

static int setup(void **state)
{
	(void)state;
	make_cred(&rsa_cred, "localhost", true, NULL, false);
	make_cred(&ec_cred, "localhost", false, NULL, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_cred(&rsa_cred);
	free_cred(&ec_cred);
	return 0;
}

static void settings_for(struct tls_settings *set, const struct cred *c)
{
	memset(set, 0, sizeof(*set));
	set->cert_pem = c->cert_pem;
	set->cert_pem_len = strlen(c->cert_pem);
	set->key_pem = c->key_pem;
	set->key_pem_len = strlen(c->key_pem);
}

static struct tls_context *context_ok(const struct tls_settings *set)
{
	char *error = NULL;
	struct tls_context *ctx = tls_context_create(set, &error);

	if (ctx == NULL)
		print_error("tls_context_create: %s\n", error);
	assert_non_null(ctx);
	assert_null(error);
	return ctx;
}

/* Returns the error text of a failing context creation (caller frees). */
static char *context_fail(const struct tls_settings *set)
{
	char *error = NULL;
	struct tls_context *ctx = tls_context_create(set, &error);

	assert_null(ctx);
	assert_non_null(error);
	return error;
}

static void nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* A client context; trust is NULL (no verification) or a CA to verify with. */
static SSL_CTX *client_ctx(int min_version, int max_version, const char *ciphers, X509 *trust)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	SSL_CTX_set_min_proto_version(ctx, min_version);
	SSL_CTX_set_max_proto_version(ctx, max_version);
	if (ciphers != NULL)
		assert_int_equal(SSL_CTX_set_cipher_list(ctx, ciphers), 1);
	if (trust != NULL) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

struct pair {
	int sfd, cfd;
	struct tls_conn *server;
	SSL *client;
	enum tls_result sres;
	int cret;
};

static void pair_open(struct pair *p, struct tls_context *ctx, SSL_CTX *cctx)
{
	int fds[2];
	char *error = NULL;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	nonblock(fds[0]);
	nonblock(fds[1]);
	p->sfd = fds[0];
	p->cfd = fds[1];
	p->server = tls_conn_create(ctx, p->sfd, &error);
	assert_non_null(p->server);
	p->client = SSL_new(cctx);
	SSL_set_fd(p->client, p->cfd);
	SSL_set_tlsext_host_name(p->client, "localhost");
	SSL_set1_host(p->client, "localhost");
	SSL_set_connect_state(p->client);
}

static void pair_close(struct pair *p)
{
	tls_conn_free(&p->server);
	assert_null(p->server);
	SSL_free(p->client);
	close(p->sfd);
	close(p->cfd);
}

/* Runs both handshakes until each side finished or failed. */
static bool pair_handshake(struct pair *p)
{
	bool cdone = false, sdone = false;

	for (int i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!sdone) {
			p->sres = tls_conn_handshake(p->server);
			if (p->sres == TLS_OK || p->sres == TLS_ERROR || p->sres == TLS_CLOSED)
				sdone = true;
		}
		if (!cdone) {
			p->cret = SSL_do_handshake(p->client);
			int e = SSL_get_error(p->client, p->cret);

			if (p->cret == 1 || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE))
				cdone = true;
		}
		if (sdone && p->sres != TLS_OK)
			break;
	}
	ERR_clear_error();
	return p->sres == TLS_OK && p->cret == 1;
}

static void test_handshake_and_data(void **state)
{
	struct tls_settings set;
	struct tls_context *ctx;
	SSL_CTX *cctx;
	struct pair p;
	char buf[64];
	size_t n;

	(void)state;
	settings_for(&set, &rsa_cred);
	ctx = context_ok(&set);
	cctx = client_ctx(0, 0, NULL, rsa_cred.cert);
	pair_open(&p, ctx, cctx);
	/* Nothing arrived yet: the server waits for the ClientHello. */
	assert_int_equal(tls_conn_handshake(p.server), TLS_WANT_READ);
	assert_string_equal(tls_conn_security_string(p.server), "");
	assert_true(pair_handshake(&p));
	assert_true(tls_conn_handshake_done(p.server));
	assert_int_equal(SSL_get_verify_result(p.client), X509_V_OK);
	assert_string_equal(tls_conn_protocol(p.server), "TLSv1.3");
	assert_string_equal(tls_conn_security_string(p.server),
			    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
	assert_string_equal(tls_conn_cipher(p.server), "TLS_AES_256_GCM_SHA384");

	/* Server to client. */
	assert_int_equal(tls_conn_write(p.server, "* OK roost ready.\r\n", 19, &n), TLS_OK);
	assert_int_equal(n, 19);
	assert_int_equal(SSL_read(p.client, buf, sizeof(buf)), 19);
	assert_memory_equal(buf, "* OK roost ready.\r\n", 19);
	/* Client to server, in two records; the server reads until WANT_READ. */
	assert_int_equal(tls_conn_read(p.server, buf, sizeof(buf), &n), TLS_WANT_READ);
	assert_int_equal(SSL_write(p.client, "a NOOP\r\n", 8), 8);
	assert_int_equal(SSL_write(p.client, "b NOOP\r\n", 8), 8);
	assert_int_equal(tls_conn_read(p.server, buf, 4, &n), TLS_OK);
	assert_int_equal(n, 4);
	assert_true(tls_conn_pending(p.server));
	assert_int_equal(tls_conn_read(p.server, buf + 4, sizeof(buf) - 4, &n), TLS_OK);
	assert_int_equal(n, 4);
	assert_int_equal(tls_conn_read(p.server, buf + 8, sizeof(buf) - 8, &n), TLS_OK);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "a NOOP\r\nb NOOP\r\n", 16);
	assert_int_equal(tls_conn_read(p.server, buf, sizeof(buf), &n), TLS_WANT_READ);
	assert_false(tls_conn_pending(p.server));

	/* A large write fills the socket: partial writes, then WANT_WRITE. */
	static char big[1 << 20];
	size_t total = 0;
	enum tls_result r = TLS_OK;

	memset(big, 'x', sizeof(big));
	while (total < sizeof(big) &&
	       (r = tls_conn_write(p.server, big + total, sizeof(big) - total, &n)) == TLS_OK)
		total += n;
	assert_int_equal(r, TLS_WANT_WRITE);
	/* The client drains, the server finishes. */
	size_t got = 0;

	while (got < sizeof(big)) {
		int k = SSL_read(p.client, buf, sizeof(buf));

		if (k > 0) {
			got += (size_t)k;
			continue;
		}
		assert_int_equal(SSL_get_error(p.client, k), SSL_ERROR_WANT_READ);
		r = tls_conn_write(p.server, big + total, sizeof(big) - total, &n);
		assert_true(r == TLS_OK || r == TLS_WANT_WRITE);
		total += n;
	}
	assert_int_equal(total, sizeof(big));

	/* The client closes with close_notify: the server sees TLS_CLOSED. */
	SSL_shutdown(p.client);
	assert_int_equal(tls_conn_read(p.server, buf, sizeof(buf), &n), TLS_CLOSED);
	assert_int_equal(tls_conn_shutdown(p.server), TLS_OK);
	pair_close(&p);

	/* A client that just drops the connection: also TLS_CLOSED. */
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	close(p.cfd);
	p.cfd = -1;
	assert_int_equal(tls_conn_read(p.server, buf, sizeof(buf), &n), TLS_CLOSED);
	/* Writing to the closed peer is an error, never SIGPIPE. */
	r = tls_conn_write(p.server, "x", 1, &n);
	assert_int_equal(r, TLS_ERROR);
	assert_string_equal(tls_conn_error(p.server), "SSL_write() syscall failed: Broken pipe");
	/* After an error there is nothing left to shut down. */
	assert_int_equal(tls_conn_shutdown(p.server), TLS_OK);
	assert_int_equal(tls_conn_write(p.server, "", 0, &n), TLS_OK);
	pair_close(&p);

	SSL_CTX_free(cctx);
	tls_context_free(&ctx);
	assert_null(ctx);
}

static void test_protocol_floor(void **state)
{
	struct tls_settings set;
	struct tls_context *ctx;
	SSL_CTX *cctx;
	struct pair p;

	(void)state;
	settings_for(&set, &rsa_cred);
	ctx = context_ok(&set);
	/* A TLSv1.1-only client is refused by the default floor (TLSv1.2). */
	cctx = client_ctx(TLS1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0", NULL);
	pair_open(&p, ctx, cctx);
	assert_false(pair_handshake(&p));
	assert_int_equal(p.sres, TLS_ERROR);
	assert_string_equal(
		tls_conn_error(p.server),
		"SSL_accept() failed: error:0A000102:SSL routines::unsupported protocol");
	assert_false(tls_conn_handshake_done(p.server));
	pair_close(&p);
	SSL_CTX_free(cctx);

	/* TLSv1.2 passes the default floor... */
	cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	assert_string_equal(tls_conn_protocol(p.server), "TLSv1.2");
	assert_non_null(strstr(tls_conn_security_string(p.server), "TLSv1.2 with cipher ECDHE-"));
	pair_close(&p);
	tls_context_free(&ctx);

	/* ... but not ssl_min_protocol = TLSv1.3. */
	set.min_protocol = "TLSv1.3";
	ctx = context_ok(&set);
	pair_open(&p, ctx, cctx);
	assert_false(pair_handshake(&p));
	assert_non_null(strstr(tls_conn_error(p.server), "unsupported protocol"));
	pair_close(&p);
	SSL_CTX_free(cctx);
	tls_context_free(&ctx);

	set.min_protocol = "SSLv3";
	char *error = context_fail(&set);

	assert_string_equal(error, "ssl_min_protocol: Unknown protocol 'SSLv3' "
				   "(use TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 or ANY)");
	free(error);
}

static void test_settings(void **state)
{
	struct tls_settings set;
	struct tls_context *ctx;
	SSL_CTX *cctx;
	struct pair p;
	char *error;

	(void)state;
	/* TLS 1.3 suite, curve and server preference. */
	settings_for(&set, &ec_cred);
	set.cipher_suites = "TLS_CHACHA20_POLY1305_SHA256";
	set.curve_list = "P-384";
	set.prefer_server_ciphers = true;
	ctx = context_ok(&set);
	cctx = client_ctx(0, 0, NULL, ec_cred.cert);
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	assert_string_equal(tls_conn_security_string(p.server),
			    "TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256 (256/256 bits)");
	pair_close(&p);
	SSL_CTX_free(cctx);
	tls_context_free(&ctx);

	/* ssl_cipher_list for TLS 1.2, and ssl_dh for its DHE suites. */
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *dh = NULL;
	BIO *bio = BIO_new(BIO_s_mem());

	assert_int_equal(EVP_PKEY_paramgen_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_dh_nid(pctx, NID_ffdhe3072), 1);
	assert_int_equal(EVP_PKEY_paramgen(pctx, &dh), 1);
	PEM_write_bio_Parameters(bio, dh);
	char *dh_pem = bio_to_string(bio);

	EVP_PKEY_free(dh);
	EVP_PKEY_CTX_free(pctx);
	assert_non_null(strstr(dh_pem, "BEGIN DH PARAMETERS"));
	settings_for(&set, &rsa_cred);
	set.cipher_list = "DHE-RSA-AES256-GCM-SHA384";
	set.dh_pem = dh_pem;
	set.dh_pem_len = strlen(dh_pem);
	ctx = context_ok(&set);
	cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	assert_string_equal(tls_conn_security_string(p.server),
			    "TLSv1.2 with cipher DHE-RSA-AES256-GCM-SHA384 (256/256 bits)");
	pair_close(&p);
	tls_context_free(&ctx);
	/* Without ssl_dh, built-in groups serve the same suite. */
	set.dh_pem = NULL;
	set.dh_pem_len = 0;
	ctx = context_ok(&set);
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	assert_string_equal(tls_conn_cipher(p.server), "DHE-RSA-AES256-GCM-SHA384");
	pair_close(&p);
	tls_context_free(&ctx);
	SSL_CTX_free(cctx);
	set.dh_pem = "-----BEGIN DH PARAMETERS-----\nnot base64\n-----END DH PARAMETERS-----\n";
	set.dh_pem_len = strlen(set.dh_pem);
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_dh: Can't load DH parameters: error:"));
	free(error);
	free(dh_pem);

	/* Bad values name their setting. */
	settings_for(&set, &rsa_cred);
	set.cipher_list = "NO-SUCH-CIPHER";
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_cipher_list: No usable cipher in the list: error:"));
	free(error);
	settings_for(&set, &rsa_cred);
	set.curve_list = "P-999";
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_curve_list: "));
	free(error);
	settings_for(&set, &rsa_cred);
	set.cipher_suites = "TLS_NOPE";
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_cipher_suites: "));
	free(error);
}

static void test_keys(void **state)
{
	struct tls_settings set;
	struct tls_context *ctx;
	BIO *bio;
	char *enc_pem, *error;

	(void)state;
	/* An encrypted key (PKCS#8, AES-256) with its password. */
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, rsa_cred.key, EVP_aes_256_cbc(), NULL,
						       0, NULL, (void *)"s3cret pass"),
			 1);
	enc_pem = bio_to_string(bio);
	assert_non_null(strstr(enc_pem, "BEGIN ENCRYPTED PRIVATE KEY"));
	settings_for(&set, &rsa_cred);
	set.key_pem = enc_pem;
	set.key_pem_len = strlen(enc_pem);
	set.key_password = "s3cret pass";
	ctx = context_ok(&set);
	tls_context_free(&ctx);
	/* Wrong and missing passwords are clear errors, never a terminal prompt. */
	set.key_password = "wrong";
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_key: Can't load the private key (wrong "
				      "ssl_key_password?): error:"));
	free(error);
	set.key_password = NULL;
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_key: Can't load the private key (encrypted? set "
				      "ssl_key_password): error:"));
	free(error);
	free(enc_pem);

	/* Key and certificate that do not belong together. */
	settings_for(&set, &rsa_cred);
	set.key_pem = ec_cred.key_pem;
	set.key_pem_len = strlen(ec_cred.key_pem);
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_key: Private key does not match the certificate: "));
	free(error);
	struct cred other;

	make_cred(&other, "other", true, NULL, false);
	set.key_pem = other.key_pem;
	set.key_pem_len = strlen(other.key_pem);
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_key: Private key does not match the certificate: "));
	assert_non_null(strstr(error, "key values mismatch"));
	free(error);
	free_cred(&other);

	/* Not PEM at all, and nothing at all. */
	settings_for(&set, &rsa_cred);
	set.cert_pem = "hello";
	set.cert_pem_len = 5;
	error = context_fail(&set);
	assert_non_null(strstr(error, "ssl_cert: Can't load the certificate (not PEM?): error:"));
	free(error);
	settings_for(&set, &rsa_cred);
	set.key_pem_len = 0;
	error = context_fail(&set);
	assert_string_equal(error, "ssl_key: No private key given");
	free(error);
	memset(&set, 0, sizeof(set));
	error = context_fail(&set);
	assert_string_equal(error, "ssl_cert: No certificate given");
	free(error);
}

static void test_chain(void **state)
{
	struct cred root, inter, leaf;
	struct tls_settings set;
	struct tls_context *ctx;
	SSL_CTX *cctx;
	struct pair p;
	char *chain;

	(void)state;
	make_cred(&root, "roost test root", false, NULL, true);
	make_cred(&inter, "roost test intermediate", false, &root, true);
	make_cred(&leaf, "localhost", false, &inter, false);
	size_t chain_size = strlen(leaf.cert_pem) + strlen(inter.cert_pem) + 1;

	chain = malloc(chain_size);
	snprintf(chain, chain_size, "%s%s", leaf.cert_pem, inter.cert_pem);
	settings_for(&set, &leaf);
	/* The client trusts only the root: it needs the intermediate from us. */
	cctx = client_ctx(0, 0, NULL, root.cert);
	ctx = context_ok(&set);
	pair_open(&p, ctx, cctx);
	assert_false(pair_handshake(&p));
	pair_close(&p);
	tls_context_free(&ctx);
	set.cert_pem = chain;
	set.cert_pem_len = strlen(chain);
	ctx = context_ok(&set);
	pair_open(&p, ctx, cctx);
	assert_true(pair_handshake(&p));
	assert_int_equal(SSL_get_verify_result(p.client), X509_V_OK);
	pair_close(&p);
	tls_context_free(&ctx);
	SSL_CTX_free(cctx);
	free(chain);
	free_cred(&root);
	free_cred(&inter);
	free_cred(&leaf);
}

static void test_garbage(void **state)
{
	struct tls_settings set;
	struct tls_context *ctx;
	char *error = NULL;
	int fds[2];
	struct tls_conn *conn;

	(void)state;
	settings_for(&set, &ec_cred);
	ctx = context_ok(&set);
	/* A plain-text client on the TLS port: Dovecot-like log text. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	nonblock(fds[0]);
	conn = tls_conn_create(ctx, fds[0], &error);
	assert_non_null(conn);
	assert_int_equal(write(fds[1], "a LOGIN x y\r\n", 13), 13);
	assert_int_equal(tls_conn_handshake(conn), TLS_ERROR);
	assert_string_equal(
		tls_conn_error(conn),
		"SSL_accept() failed: error:0A00010B:SSL routines::wrong version number");
	assert_int_equal(tls_conn_shutdown(conn), TLS_OK);
	tls_conn_free(&conn);
	close(fds[0]);
	close(fds[1]);
	/* A client that connects and leaves during the handshake. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	nonblock(fds[0]);
	conn = tls_conn_create(ctx, fds[0], &error);
	close(fds[1]);
	assert_int_equal(tls_conn_handshake(conn), TLS_CLOSED);
	assert_string_equal(tls_conn_error(conn), "SSL_accept() failed: Connection closed");
	tls_conn_free(&conn);
	close(fds[0]);
	/* The context may go first; connections keep what they need. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	conn = tls_conn_create(ctx, fds[0], &error);
	tls_context_free(&ctx);
	tls_conn_free(&conn);
	close(fds[0]);
	close(fds[1]);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/*
 * Heap held by idle server connections after the handshake: client objects
 * are freed first, so only what roost-login would keep is counted.
 */
static void test_idle_memory(void **state)
{
	enum { N = 500 };
	struct tls_settings set;
	struct tls_context *ctx;
	SSL_CTX *cctx;
	static struct pair pairs[N];
	struct rlimit rl;
	size_t before, after, n = N;

	(void)state;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * N + 64) {
		rl.rlim_cur = rl.rlim_max < 2 * N + 64 ? rl.rlim_max : 2 * N + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * N + 64)
			n = (rl.rlim_cur - 64) / 2;
	}
	settings_for(&set, &rsa_cred);
	ctx = context_ok(&set);
	cctx = client_ctx(0, 0, NULL, NULL);
	/* One warm-up connection: lazily fetched algorithms are not per connection. */
	pair_open(&pairs[0], ctx, cctx);
	assert_true(pair_handshake(&pairs[0]));
	pair_close(&pairs[0]);
	malloc_trim(0);
	before = mallinfo2().uordblks;
	for (size_t i = 0; i < n; i++) {
		pair_open(&pairs[i], ctx, cctx);
		assert_true(pair_handshake(&pairs[i]));
		/* One exchange each way, as a greeting and a command would. */
		size_t w;
		char buf[64];

		assert_int_equal(tls_conn_write(pairs[i].server, "* OK\r\n", 6, &w), TLS_OK);
		assert_int_equal(SSL_read(pairs[i].client, buf, sizeof(buf)), 6);
		assert_int_equal(SSL_write(pairs[i].client, "a NOOP\r\n", 8), 8);
		assert_int_equal(tls_conn_read(pairs[i].server, buf, sizeof(buf), &w), TLS_OK);
		SSL_free(pairs[i].client);
		pairs[i].client = NULL;
	}
	after = mallinfo2().uordblks;
	size_t per_conn = (after - before) / n;

	print_message("idle TLS connections: %zu, heap per connection: %zu bytes (%.1f KiB)\n", n,
		      per_conn, per_conn / 1024.0);
	if (!UNDER_ASAN)
		assert_true(per_conn < 100 * 1024);
	for (size_t i = 0; i < n; i++)
		pair_close(&pairs[i]);
	SSL_CTX_free(cctx);
	tls_context_free(&ctx);
}

/*
 * After tls_context_create(), a handshake and data exchange must work inside
 * roost's seccomp filter with only the base system calls every sandboxed
 * process gets: a forbidden call kills the child with SIGSYS.
 */
static void test_sandboxed_handshake(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const struct sandbox_profile profile = {.name = "tls-test"};
		struct sandbox_identity id = {.change_user = false};
		struct tls_settings set;
		struct tls_context *ctx;
		SSL_CTX *cctx;
		struct pair pairs[3];
		char *error = NULL;
		char buf[64];
		size_t n;

		settings_for(&set, &rsa_cred);
		ctx = tls_context_create(&set, &error);
		cctx = client_ctx(0, 0, NULL, rsa_cred.cert);
		if (ctx == NULL || cctx == NULL)
			_exit(2);
		/* Sockets come from outside in roost-login too (accept). */
		for (int i = 0; i < 3; i++)
			pair_open(&pairs[i], ctx, cctx);
		sandbox_enter(&profile, &id);
		for (int i = 0; i < 3; i++) {
			struct pair *p = &pairs[i];

			if (!pair_handshake(p))
				_exit(3);
			if (tls_conn_write(p->server, "* OK\r\n", 6, &n) != TLS_OK ||
			    SSL_read(p->client, buf, sizeof(buf)) != 6)
				_exit(4);
			if (SSL_write(p->client, "a NOOP\r\n", 8) != 8 ||
			    tls_conn_read(p->server, buf, sizeof(buf), &n) != TLS_OK || n != 8)
				_exit(5);
			SSL_shutdown(p->client);
			if (tls_conn_read(p->server, buf, sizeof(buf), &n) != TLS_CLOSED)
				_exit(6);
			tls_conn_shutdown(p->server);
			pair_close(p);
		}
		/* After the first one, more contexts can be built in the sandbox. */
		tls_context_free(&ctx);
		set.min_protocol = "TLSv1.3";
		ctx = tls_context_create(&set, &error);
		if (ctx == NULL)
			_exit(7);
		SSL_CTX_free(cctx);
		tls_context_free(&ctx);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		print_error("child killed by signal %d (SIGSYS = forbidden system call)\n",
			    WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_data),
		cmocka_unit_test(test_protocol_floor),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_idle_memory),
		cmocka_unit_test(test_sandboxed_handshake),
	};

	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: it must not happen */
	return cmocka_run_group_tests(tests, setup, teardown);
}
