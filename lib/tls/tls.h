/*
 * Server-side TLS for roost-login, and the only code in roost that includes
 * OpenSSL. A context is built from PEM text in memory (master reads the
 * certificate and key as root and hands them over, so login never opens
 * files); connections are non-blocking and report WANT_READ/WANT_WRITE for
 * the caller's epoll loop. It trusts the settings it is given; everything
 * that arrives on a connection's socket is the peer's and is only handed to
 * OpenSSL.
 *
 * Sandbox. The first tls_context_create() does every step that may open a
 * file (OpenSSL's configuration, provider loading, random seeding), so it
 * must run before the process enters its seccomp sandbox; later contexts
 * (a settings reload) can be built inside it, as the tests check.
 * Afterwards handshakes and I/O need only: recvfrom, sendto (the socket, via
 * MSG_NOSIGNAL, so a closed peer never raises SIGPIPE), getrandom (DRBG
 * reseeding), getpid (OpenSSL's fork check) and memory management (brk,
 * mmap, munmap, mremap, madvise), plus futex when OpenSSL's locks contend.
 */
#ifndef ROOST_TLS_H
#define ROOST_TLS_H

#include <stdbool.h>
#include <stddef.h>

/* Settings as Dovecot names them. Empty strings and NULL mean "default". */
struct tls_settings {
	/* ssl_cert: the certificate, then its chain (intermediates), in PEM. */
	const char *cert_pem;
	size_t cert_pem_len;
	/* ssl_key: the private key in PEM, possibly encrypted. */
	const char *key_pem;
	size_t key_pem_len;
	/* ssl_key_password: for an encrypted key. */
	const char *key_password;
	/* ssl_min_protocol: TLSv1, TLSv1.1, TLSv1.2 (default), TLSv1.3 or ANY. */
	const char *min_protocol;
	/* ssl_cipher_list: OpenSSL cipher string for TLS 1.2 and older. */
	const char *cipher_list;
	/* ssl_cipher_suites: TLS 1.3 suites, e.g. TLS_AES_256_GCM_SHA384. */
	const char *cipher_suites;
	/* ssl_curve_list: key-exchange groups, e.g. X25519:P-256. */
	const char *curve_list;
	/* ssl_prefer_server_ciphers. */
	bool prefer_server_ciphers;
	/*
	 * ssl_dh: DH parameters in PEM for the DHE suites of TLS 1.2. Without
	 * them OpenSSL's built-in RFC 7919 groups sized to the certificate are
	 * used; TLS 1.3 never uses them.
	 */
	const char *dh_pem;
	size_t dh_pem_len;
};

enum tls_result {
	TLS_OK,		/* done (handshake finished, bytes moved, shutdown sent) */
	TLS_WANT_READ,	/* call again when the socket is readable */
	TLS_WANT_WRITE, /* call again when the socket is writable */
	TLS_CLOSED,	/* the peer closed the connection (with or without close_notify) */
	TLS_ERROR,	/* protocol or socket error: tls_conn_error() says which */
};

struct tls_context;
struct tls_conn;

/*
 * Builds a server context. Returns NULL with *error_r set (allocated; the
 * caller frees it) naming the setting at fault, e.g. "ssl_key: Private key
 * does not match the certificate: error:...:key values mismatch". Run it
 * before entering the sandbox (see above).
 */
struct tls_context *tls_context_create(const struct tls_settings *set, char **error_r);
/* Frees the context; connections hold their own reference and may outlive it. */
void tls_context_free(struct tls_context **ctx);

/*
 * Starts a server-side connection on a connected non-blocking socket. The
 * socket stays the caller's (it is not closed by tls_conn_free()). Returns
 * NULL with *error_r set (allocated) when OpenSSL cannot allocate.
 */
struct tls_conn *tls_conn_create(struct tls_context *ctx, int fd, char **error_r);
void tls_conn_free(struct tls_conn **conn);

/* Drives the handshake; TLS_OK once it is complete. */
enum tls_result tls_conn_handshake(struct tls_conn *conn);
/*
 * Reads up to size decrypted bytes (*read_r > 0 on TLS_OK). OpenSSL may hold
 * decrypted bytes that epoll cannot see: after TLS_OK, read again (or check
 * tls_conn_pending()) before waiting for the socket.
 */
enum tls_result tls_conn_read(struct tls_conn *conn, void *buf, size_t size, size_t *read_r);
/*
 * Writes up to size bytes (*written_r > 0 on TLS_OK; partial writes happen).
 * After TLS_WANT_*, retry with the same bytes; the buffer may have moved.
 */
enum tls_result tls_conn_write(struct tls_conn *conn, const void *data, size_t size,
			       size_t *written_r);
/*
 * Sends close_notify (does not wait for the peer's); TLS_OK when sent, and
 * also when there is nothing to send (before the handshake completed, or
 * after an error or the peer's close, when OpenSSL must not be asked).
 */
enum tls_result tls_conn_shutdown(struct tls_conn *conn);
/* True when decrypted bytes are buffered inside OpenSSL. */
bool tls_conn_pending(const struct tls_conn *conn);

/*
 * The last error in Dovecot's words, e.g. "SSL_accept() failed:
 * error:0A000102:SSL routines::unsupported protocol" or "SSL_read() syscall
 * failed: Connection reset by peer"; "" when there was none. Valid until
 * the next call on the connection.
 */
const char *tls_conn_error(const struct tls_conn *conn);
/*
 * After the handshake: "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
 * (256/256 bits)" for the Login log line; "" before it.
 */
const char *tls_conn_security_string(struct tls_conn *conn);
/* The negotiated protocol ("TLSv1.3") and cipher name, or "" before. */
const char *tls_conn_protocol(const struct tls_conn *conn);
const char *tls_conn_cipher(const struct tls_conn *conn);
bool tls_conn_handshake_done(const struct tls_conn *conn);

#endif
