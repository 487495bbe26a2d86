/*
 * Unit tests for lib/stream.c over real non-blocking socketpairs: plain
 * input and output with their limits, EOF and broken pipes, the epoll
 * interest it asks for, and a STARTTLS switch with a TLS client in the same
 * process, where plaintext pipelined after STARTTLS must be dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "stream.h"

static void socket_pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK), 0);
}

static void test_plain(void **state)
{
	int fds[2];
	struct stream *s;
	const uint8_t *in;
	size_t len;
	char buf[64];

	(void)state;
	socket_pair(fds);
	s = stream_create(fds[0], 16, 1 << 20);
	assert_null(stream_tls(s));
	assert_true(stream_is_ready(s));
	assert_int_equal(stream_events(s), EPOLLIN);
	assert_int_equal(stream_read(s), STREAM_WAIT);

	/* Output is queued, then flushed in one go. */
	assert_true(stream_send(s, "* OK ", 5));
	assert_true(stream_send(s, "ready\r\n", 7));
	assert_int_equal(stream_output_pending(s), 12);
	assert_int_equal(stream_events(s), EPOLLIN | EPOLLOUT);
	assert_int_equal(stream_flush(s), STREAM_OK);
	assert_int_equal(stream_output_pending(s), 0);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "* OK ready\r\n", 12);

	/* Input is bounded: 40 bytes arrive through a 16-byte buffer. */
	assert_int_equal(write(fds[1], "a NOOP\r\nb NOOP\r\nc NOOP\r\nd NOOP\r\ne NOOP\r\n", 40),
			 40);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(in, "a NOOP\r\nb NOOP\r\n", 16);
	assert_int_equal(stream_events(s), 0);
	assert_int_equal(stream_read(s), STREAM_FULL);
	stream_consume(s, 8);
	assert_int_equal(stream_events(s), EPOLLIN);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_memory_equal(in, "b NOOP\r\nc NOOP\r\n", 16);
	stream_consume(s, 16);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_int_equal(len, 16);
	stream_consume(s, len);
	assert_int_equal(stream_read(s), STREAM_WAIT);

	/* The peer says goodbye: the bytes first, then EOF. */
	assert_int_equal(write(fds[1], "bye", 3), 3);
	close(fds[1]);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_int_equal(len, 3);
	assert_int_equal(stream_read(s), STREAM_EOF);
	assert_int_equal(stream_events(s), 0);
	/* Writing to it fails cleanly (no SIGPIPE). */
	stream_free(&s);
	s = stream_create(fds[0], 16, 64);
	assert_true(stream_send(s, "x", 1));
	assert_int_equal(stream_flush(s), STREAM_ERROR);
	assert_string_equal(stream_error(s), "write() failed: Broken pipe");
	assert_false(stream_send(s, "x", 1));
	stream_free(&s);
	assert_null(s);
	close(fds[0]);
}

static void test_output_limit(void **state)
{
	int fds[2];
	struct stream *s;
	static char big[1 << 20];
	char buf[65536];
	size_t got = 0;

	(void)state;
	socket_pair(fds);
	s = stream_create(fds[0], 1024, sizeof(big));
	memset(big, 'y', sizeof(big));
	assert_true(stream_send(s, big, sizeof(big)));
	/* A client that does not read: over the limit, nothing more is queued. */
	assert_false(stream_send(s, "z", 1));
	assert_int_equal(stream_flush(s), STREAM_WAIT);
	assert_true(stream_output_pending(s) > 0);
	assert_true((stream_events(s) & EPOLLOUT) != 0);
	while (got < sizeof(big)) {
		ssize_t n = read(fds[1], buf, sizeof(buf));

		if (n > 0)
			got += (size_t)n;
		else
			assert_int_not_equal(stream_flush(s), STREAM_ERROR);
	}
	assert_int_equal(stream_flush(s), STREAM_OK);
	assert_int_equal(stream_events(s), EPOLLIN);
	stream_free(&s);
	close(fds[0]);
	close(fds[1]);
}

/* A throwaway self-signed EC certificate for the TLS part. */
static void make_cert(char **cert_pem, char **key_pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *bio;
	char *data;
	long len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, x);
	len = BIO_get_mem_data(bio, &data);
	*cert_pem = strndup(data, (size_t)len);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &data);
	*key_pem = strndup(data, (size_t)len);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_starttls(void **state)
{
	int fds[2];
	struct stream *s;
	struct tls_settings set = {0};
	struct tls_context *ctx;
	struct tls_conn *tls;
	SSL_CTX *cctx;
	SSL *client;
	char *cert, *key, *error = NULL, buf[128];
	const uint8_t *in;
	size_t len, discarded;

	(void)state;
	make_cert(&cert, &key);
	set.cert_pem = cert;
	set.cert_pem_len = strlen(cert);
	set.key_pem = key;
	set.key_pem_len = strlen(key);
	ctx = tls_context_create(&set, &error);
	assert_non_null(ctx);

	socket_pair(fds);
	s = stream_create(fds[0], 4096, 65536);
	/* The client pipelines a command after STARTTLS: an injection attempt. */
	static const char attack[] = "a STARTTLS\r\nb LOGIN victim password\r\n";
	assert_int_equal(write(fds[1], attack, sizeof(attack) - 1), sizeof(attack) - 1);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_int_equal(len, sizeof(attack) - 1);
	stream_consume(s, 12); /* "a STARTTLS\r\n" */
	assert_true(stream_send(s, "a OK Begin TLS negotiation now.\r\n", 33));
	assert_int_equal(stream_flush(s), STREAM_OK);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 33);
	tls = tls_conn_create(ctx, fds[0], &error);
	assert_non_null(tls);
	stream_start_tls(s, &tls_stream_transport, tls, &discarded);
	assert_int_equal(discarded, strlen("b LOGIN victim password\r\n"));
	assert_ptr_equal(stream_tls(s), tls);
	assert_false(stream_is_ready(s));

	cctx = SSL_CTX_new(TLS_client_method());
	client = SSL_new(cctx);
	SSL_set_fd(client, fds[1]);
	SSL_set_connect_state(client);
	bool cdone = false;

	for (int i = 0; i < 50 && !(cdone && stream_is_ready(s)); i++) {
		if (!cdone)
			cdone = SSL_do_handshake(client) == 1;
		enum stream_result r = stream_read(s);

		assert_true(r == STREAM_WAIT || r == STREAM_OK);
		assert_int_not_equal(stream_events(s), 0);
	}
	assert_true(cdone);
	assert_true(stream_is_ready(s));
	assert_non_null(strstr(tls_conn_security_string(tls), "TLSv1.3 with cipher "));

	/* Only what came over TLS is input now. */
	assert_int_equal(SSL_write(client, "c CAPABILITY\r\n", 14), 14);
	assert_int_equal(stream_read(s), STREAM_OK);
	in = stream_input(s, &len);
	assert_int_equal(len, 14);
	assert_memory_equal(in, "c CAPABILITY\r\n", 14);
	stream_consume(s, len);
	assert_true(stream_send(s, "* CAPABILITY IMAP4rev1\r\nc OK done\r\n", 35));
	assert_int_equal(stream_flush(s), STREAM_OK);
	assert_int_equal(SSL_read(client, buf, sizeof(buf)), 35);
	assert_memory_equal(buf, "* CAPABILITY IMAP4rev1\r\nc OK done\r\n", 35);
	assert_int_equal(stream_read(s), STREAM_WAIT);
	assert_int_equal(stream_events(s), EPOLLIN);
	/* The client leaves politely. */
	SSL_shutdown(client);
	assert_int_equal(stream_read(s), STREAM_EOF);

	stream_free(&s);
	SSL_free(client);
	SSL_CTX_free(cctx);
	tls_context_free(&ctx);
	close(fds[0]);
	close(fds[1]);
	free(cert);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_starttls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
