/*
 * Client connections of roost-login: accepting, bounded input and output
 * buffers, TLS, the idle timeout, the SASL relay to auth, the hand-off to
 * master and, for TLS clients, the proxy to the mail process. Runs
 * sandboxed; every byte read here came from an unauthenticated peer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "ioloop.h"
#include "log.h"
#include "login.h"
#include "tls/tls.h"
#include "xalloc.h"

/* Queued output beyond this means the client is not reading: drop it. */
#define CLIENT_OUTPUT_MAX (256 * 1024)
#define PROXY_BUFFER_MAX  (64 * 1024)
#define ACCEPT_BATCH	  64
#define SESSION_ID_BYTES  12

struct listener {
	int fd;
	bool ssl;
	struct io *io;
};

static struct {
	struct listener listeners[16];
	unsigned int listener_count;
	bool accepting;
	struct client *clients;
	unsigned int count;
	unsigned int limit;
} cl;

static void client_update_io(struct client *c);
static void client_destroy(struct client *c);

unsigned int clients_count(void)
{
	return cl.count;
}

static void listeners_set_accepting(bool accept);

/* Tells master when we become full or stop being full. */
static void clients_count_changed(void)
{
	bool full = cl.count >= cl.limit;

	if (full == !cl.accepting)
		return;
	listeners_set_accepting(!full);
	master_conn_status();
}

static void session_id_new(char *dst, size_t size)
{
	uint8_t raw[SESSION_ID_BYTES];
	struct buf b = BUF_INIT(64);

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		memset(raw, 0, sizeof(raw));
	base64_encode(&b, raw, sizeof(raw));
	(void)str_copy(dst, size, buf_cstr(&b));
	buf_free(&b);
}

void client_send(struct client *c, const char *data, size_t len)
{
	if (c->destroyed)
		return;
	if (!buf_append(&c->output, data, len)) {
		client_disconnect(c, "Output buffer full");
		return;
	}
	client_update_io(c);
}

void client_send_str(struct client *c, const char *str)
{
	client_send(c, str, strlen(str));
}

void client_printf(struct client *c, const char *fmt, ...)
{
	struct buf line = BUF_INIT(LOGIN_INPUT_MAX + 1024);
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(&line, fmt, ap);
	va_end(ap);
	client_send(c, (const char *)buf_data(&line), buf_len(&line));
	buf_free(&line);
}

bool client_plaintext_allowed(const struct client *c)
{
	return !login_set->disable_plaintext_auth || c->secured;
}

static unsigned int secs_since(uint64_t ms)
{
	uint64_t now = ioloop_now_ms();

	return now > ms ? (unsigned int)((now - ms + 500) / 1000) : 0;
}

/* The fields Dovecot puts after every login line, "user=<...>, ..., session=<...>". */
static void client_log_fields(struct client *c, struct buf *out, pid_t mail_pid)
{
	(void)buf_printf(out, "user=<%s>", c->auth_user);
	if (c->mech[0] != '\0')
		(void)buf_printf(out, ", method=%s", c->mech);
	(void)buf_printf(out, ", rip=%s, lip=%s", c->rip_str, c->lip_str);
	if (mail_pid > 0)
		(void)buf_printf(out, ", mpid=%d", (int)mail_pid);
	if (c->tls != NULL)
		(void)buf_append_str(out, ", TLS");
	else if (c->secured)
		(void)buf_append_str(out, ", secured");
	(void)buf_printf(out, ", session=<%s>", c->session);
}

void client_log_disconnect(struct client *c, const char *reason)
{
	struct buf line = BUF_INIT(4096);

	if (c->auth_attempts == 0 && c->plaintext_refused)
		(void)buf_printf(&line, "%s (tried to use disallowed plaintext auth): ", reason);
	else if (c->auth_attempts == 0)
		(void)buf_printf(&line, "%s (no auth attempts in %u secs): ", reason,
				 secs_since(c->created_ms));
	else
		(void)buf_printf(&line, "%s (auth failed, %u attempts in %u secs): ", reason,
				 c->auth_attempts, secs_since(c->created_ms));
	client_log_fields(c, &line, 0);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
}

void client_disconnect(struct client *c, const char *log_reason)
{
	if (c->destroyed || c->disconnect_after_output)
		return;
	if (log_reason != NULL)
		client_log_disconnect(c, log_reason);
	if (buf_len(&c->output) == 0) {
		client_destroy(c);
		return;
	}
	/* Send what is queued (the BYE), then close. */
	c->disconnect_after_output = true;
	client_update_io(c);
}

void client_start_tls(struct client *c)
{
	c->tls_after_output = true;
	/* Anything the client pipelined after STARTTLS must not survive it. */
	buf_reset(&c->input);
	c->input_blocked = true;
	client_update_io(c);
}

static void client_free(void *ctx)
{
	struct client *c = ctx;

	timeout_remove(&c->free_to);
	free(c);
}

static void client_destroy(struct client *c)
{
	if (c->destroyed)
		return;
	c->destroyed = true;
	c->state = CLIENT_DESTROYED;
	if (c->auth_id != 0)
		auth_conn_abort(c);
	io_remove(&c->io);
	io_remove(&c->proxy_io);
	timeout_remove(&c->idle_to);
	if (c->tls != NULL)
		tls_conn_free(&c->tls);
	if (c->fd >= 0)
		close(c->fd);
	if (c->proxy_fd >= 0)
		close(c->proxy_fd);
	buf_free(&c->input);
	buf_free(&c->output);
	buf_free(&c->proxy_to_mail);
	buf_free(&c->proxy_to_client);
	if (c->proto_ctx != NULL && c->proto->destroy != NULL)
		c->proto->destroy(c->proto_ctx);
	free(c->proto_ctx);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cl.clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	cl.count--;
	/*
	 * Callers up the stack may still look at c->destroyed: the struct is
	 * freed from the loop once they have returned.
	 */
	c->free_to = timeout_add(0, client_free, c);
	clients_count_changed();
}

static void client_idle(void *ctx)
{
	struct client *c = ctx;

	timeout_remove(&c->idle_to);
	if (c->state == CLIENT_PROXY)
		return;
	if (c->proto->idle_timeout != NULL && c->state != CLIENT_TLS_HANDSHAKE)
		c->proto->idle_timeout(c);
	client_disconnect(c, "Disconnected: Inactivity");
}

/* Notes what TLS is waiting for, so the loop watches the right event. */
static void client_tls_wait(struct client *c, enum tls_result r)
{
	c->tls_want_write = r == TLS_WANT_WRITE;
}

/* Raw transport: TLS when set up, else the socket. */
static ssize_t client_read_raw(struct client *c, uint8_t *p, size_t len, bool *again_r)
{
	ssize_t n;

	*again_r = false;
	if (c->tls != NULL) {
		size_t got = 0;
		enum tls_result r = tls_conn_read(c->tls, p, len, &got);

		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			client_tls_wait(c, r);
			*again_r = true;
			return -1;
		}
		c->tls_want_write = false;
		return r == TLS_OK ? (ssize_t)got : r == TLS_CLOSED ? 0 : -1;
	}
	n = read(c->fd, p, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		*again_r = true;
	return n;
}

static ssize_t client_write_raw(struct client *c, const uint8_t *p, size_t len, bool *again_r)
{
	ssize_t n;

	*again_r = false;
	if (c->tls != NULL) {
		size_t written = 0;
		enum tls_result r = tls_conn_write(c->tls, p, len, &written);

		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			client_tls_wait(c, r);
			*again_r = true;
			return -1;
		}
		c->tls_want_write = false;
		return r == TLS_OK ? (ssize_t)written : -1;
	}
	n = send(c->fd, p, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		*again_r = true;
	return n;
}

/* Creates the TLS state for the connection; false (client destroyed) on failure. */
static bool client_tls_begin(struct client *c)
{
	char *error = NULL;

	c->tls = tls_conn_create(login_tls, c->fd, &error);
	if (c->tls == NULL) {
		log_error("TLS initialization failed: %s", error);
		free(error);
		client_destroy(c);
		return false;
	}
	c->state = CLIENT_TLS_HANDSHAKE;
	return true;
}

/* Writes queued output; false if the client is gone. */
static bool client_flush(struct client *c)
{
	while (buf_len(&c->output) > 0) {
		bool again;
		ssize_t n = client_write_raw(c, buf_data(&c->output), buf_len(&c->output), &again);

		if (n < 0) {
			if (again)
				return true;
			client_destroy(c);
			return false;
		}
		buf_consume(&c->output, (size_t)n);
	}
	if (c->disconnect_after_output) {
		client_destroy(c);
		return false;
	}
	if (c->tls_after_output) {
		c->tls_after_output = false;
		return client_tls_begin(c);
	}
	return true;
}

static void client_update_io(struct client *c)
{
	uint32_t events = 0;

	if (c->destroyed || c->io == NULL)
		return;
	if (c->state == CLIENT_TLS_HANDSHAKE) {
		events = c->tls_want_write ? EPOLLOUT : EPOLLIN;
	} else {
		if (buf_len(&c->output) > 0 || c->tls_want_write)
			events |= EPOLLOUT;
		if (!c->input_blocked && !c->disconnect_after_output &&
		    (c->state == CLIENT_PREAUTH || c->state == CLIENT_AUTHENTICATING ||
		     (c->state == CLIENT_PROXY && buf_room(&c->proxy_to_mail) > 0)))
			events |= EPOLLIN;
	}
	io_set_events(c->io, events);
}

static void client_handshake(struct client *c)
{
	enum tls_result ret = tls_conn_handshake(c->tls);

	if (ret == TLS_WANT_READ || ret == TLS_WANT_WRITE) {
		client_tls_wait(c, ret);
		client_update_io(c);
		return;
	}
	c->tls_want_write = false;
	if (ret != TLS_OK) {
		if (login_set->verbose_ssl)
			log_info("TLS handshake failed: %s: rip=%s, lip=%s, session=<%s>",
				 tls_conn_error(c->tls), c->rip_str, c->lip_str, c->session);
		client_log_disconnect(c, "Disconnected");
		client_destroy(c);
		return;
	}
	c->secured = true;
	c->input_blocked = false;
	c->state = CLIENT_PREAUTH;
	/* Implicit TLS greets now; after STARTTLS the client greets nothing. */
	if (!c->greeted) {
		c->greeted = true;
		c->proto->greet(c);
	}
	client_update_io(c);
}

static void proxy_update_io(struct client *c);

/* Reads client bytes; protocol input in pre-auth, relay in proxy state. */
static void client_read(struct client *c)
{
	for (int rounds = 0; rounds < 8 && !c->destroyed; rounds++) {
		struct buf *target = c->state == CLIENT_PROXY ? &c->proxy_to_mail : &c->input;
		uint8_t *p;
		size_t room = buf_room(target);
		bool again;
		ssize_t n;

		if (room == 0) {
			if (c->state != CLIENT_PROXY) {
				/* A line longer than the protocol allows: say so, close. */
				if (!c->proto->input(c) && !c->destroyed)
					client_disconnect(c, "Disconnected: Input buffer full");
				else if (!c->destroyed && buf_room(&c->input) == 0)
					client_disconnect(c, "Disconnected: Input buffer full");
			}
			break;
		}
		if (room > 16384)
			room = 16384;
		p = buf_reserve(target, room);
		n = client_read_raw(c, p, room, &again);
		if (n < 0 && again)
			break;
		if (n <= 0) {
			if (c->state == CLIENT_PROXY) {
				/* The client left: let the mail process see EOF. */
				(void)shutdown(c->proxy_fd, SHUT_WR);
			} else {
				client_log_disconnect(c, "Disconnected");
			}
			client_destroy(c);
			return;
		}
		buf_commit(target, (size_t)n);
		if (c->state == CLIENT_PROXY) {
			proxy_update_io(c);
			continue;
		}
		if (c->idle_to != NULL)
			timeout_reset(c->idle_to);
		if (!c->proto->input(c)) {
			if (!c->destroyed)
				client_disconnect(c, NULL);
			return;
		}
		if (c->input_blocked || c->state != CLIENT_PREAUTH)
			break;
	}
	if (!c->destroyed)
		client_update_io(c);
}

static void proxy_flush_to_client(struct client *c)
{
	while (buf_len(&c->proxy_to_client) > 0) {
		bool again;
		ssize_t n = client_write_raw(c, buf_data(&c->proxy_to_client),
					     buf_len(&c->proxy_to_client), &again);

		if (n < 0) {
			if (!again)
				client_destroy(c);
			return;
		}
		buf_consume(&c->proxy_to_client, (size_t)n);
	}
	/* Idle sessions keep no buffer memory. */
	buf_free(&c->proxy_to_client);
	buf_init(&c->proxy_to_client, PROXY_BUFFER_MAX);
}

static void client_io(void *ctx, uint32_t events)
{
	struct client *c = ctx;

	if (c->state == CLIENT_TLS_HANDSHAKE) {
		client_handshake(c);
		return;
	}
	if (c->state == CLIENT_PROXY) {
		if ((events & EPOLLOUT) != 0)
			proxy_flush_to_client(c);
		if (!c->destroyed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
			client_read(c);
		if (!c->destroyed) {
			proxy_update_io(c);
			client_update_io(c);
		}
		return;
	}
	if ((events & EPOLLOUT) != 0 && !client_flush(c))
		return;
	if (c->state == CLIENT_TLS_HANDSHAKE) {
		client_handshake(c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !c->input_blocked)
		client_read(c);
	else
		client_update_io(c);
}

static void client_create(int fd, bool ssl)
{
	struct client *c = i_calloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	c->fd = fd;
	c->proxy_fd = -1;
	c->proto = strcmp(login_protocol_name, "imap") == 0 ? &imap_login_protocol
							    : &pop3_login_protocol;
	c->created_ms = ioloop_now_ms();
	buf_init(&c->input, strcmp(login_protocol_name, "imap") == 0
				    ? (size_t)login_set->imap_max_line_length + 2
				    : 4096);
	buf_init(&c->output, CLIENT_OUTPUT_MAX);
	buf_init(&c->proxy_to_mail, PROXY_BUFFER_MAX);
	buf_init(&c->proxy_to_client, PROXY_BUFFER_MAX);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)net_sockaddr_to_ip((struct sockaddr *)&ss, &c->rip, &c->rport);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)net_sockaddr_to_ip((struct sockaddr *)&ss, &c->lip, &c->lport);
	net_ip_to_str(&c->rip, c->rip_str, sizeof(c->rip_str));
	net_ip_to_str(&c->lip, c->lip_str, sizeof(c->lip_str));
	/*
	 * As Dovecot: a client on this very host (remote IP = local IP, which
	 * covers 127.0.0.1 and ::1) or in login_trusted_networks is secured.
	 */
	c->secured = (c->rip.family != 0 && strcmp(c->rip_str, c->lip_str) == 0) ||
		     net_ip_in_list(&c->rip, login_set->login_trusted_networks);
	session_id_new(c->session, sizeof(c->session));

	c->next = cl.clients;
	if (cl.clients != NULL)
		cl.clients->prev = c;
	cl.clients = c;
	cl.count++;
	c->io = io_add(fd, EPOLLIN, client_io, c);
	c->idle_to = timeout_add((unsigned int)login_set->login_idle_timeout, client_idle, c);

	if (ssl) {
		if (!client_tls_begin(c))
			return;
		client_handshake(c);
	} else {
		c->state = CLIENT_PREAUTH;
		c->greeted = true;
		c->proto->greet(c);
	}
	if (!c->destroyed)
		clients_count_changed();
}

static void listener_accept(void *ctx, uint32_t events)
{
	struct listener *l = ctx;

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH && cl.accepting; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_error("accept() failed: %m");
			return;
		}
		client_create(fd, l->ssl);
	}
}

static void listeners_set_accepting(bool accept)
{
	cl.accepting = accept;
	for (unsigned int i = 0; i < cl.listener_count; i++) {
		struct listener *l = &cl.listeners[i];

		if (accept && l->io == NULL)
			l->io = io_add(l->fd, EPOLLIN | EPOLLEXCLUSIVE, listener_accept, l);
		else if (!accept)
			io_remove(&l->io);
	}
}

void clients_init(const int *listen_fds, const bool *listen_ssl, unsigned int count)
{
	cl.limit = login_service_set->client_limit;
	for (unsigned int i = 0; i < count && i < N_ELEMENTS(cl.listeners); i++) {
		cl.listeners[i].fd = listen_fds[i];
		cl.listeners[i].ssl = listen_ssl[i];
	}
	cl.listener_count = count < N_ELEMENTS(cl.listeners) ? count : N_ELEMENTS(cl.listeners);
	listeners_set_accepting(true);
}

/* Authentication. */

void client_auth_begin(struct client *c, const char *mech, const char *initial, size_t len,
		       bool has_initial)
{
	struct auth_login_request *req = i_calloc(1, sizeof(*req));
	static uint32_t next_id;

	if (++next_id == 0)
		next_id = 1;
	c->auth_id = next_id;
	c->auth_attempts++;
	(void)str_copy(c->mech, sizeof(c->mech), mech);
	req->id = c->auth_id;
	req->flags = (c->secured ? AUTH_REQUEST_SECURED : 0) |
		     (c->tls != NULL ? AUTH_REQUEST_TLS : 0) |
		     (has_initial ? AUTH_REQUEST_HAS_INITIAL : 0);
	(void)str_copy(req->service, sizeof(req->service), login_protocol_name);
	(void)str_copy(req->mech, sizeof(req->mech), mech);
	(void)str_copy(req->rip, sizeof(req->rip), c->rip_str);
	(void)str_copy(req->lip, sizeof(req->lip), c->lip_str);
	(void)str_copy(req->session, sizeof(req->session), c->session);
	if (has_initial && len <= sizeof(req->initial)) {
		memcpy(req->initial, initial, len);
		req->initial_len = len;
	}
	c->state = CLIENT_AUTHENTICATING;
	/* No more commands until this exchange is over (RFC 3501 6.2.2). */
	c->input_blocked = true;
	if (!auth_conn_request(c, req)) {
		c->auth_id = 0;
		c->auth_attempts--;
		c->state = CLIENT_PREAUTH;
		c->input_blocked = false;
		c->proto->auth_failed(c, AUTH_FAIL_TEMP, "");
	}
	free(req);
	client_update_io(c);
}

void client_auth_respond(struct client *c, const char *data, size_t len)
{
	if (c->auth_id == 0)
		return;
	if (len == 1 && data[0] == '*') {
		/* The client cancels the exchange (RFC 3501 6.2.2, RFC 5034 4). */
		auth_conn_abort(c);
		client_auth_reply_fail(c, AUTH_FAIL_ABORTED, "", "");
		return;
	}
	c->input_blocked = true;
	auth_conn_respond(c, data, len);
	client_update_io(c);
}

void client_auth_reply_continue(struct client *c, const uint8_t *data, size_t len)
{
	c->input_blocked = false;
	c->proto->auth_continue(c, (const char *)data, len);
	client_update_io(c);
}

void client_auth_reply_fail(struct client *c, enum auth_fail_reason reason, const char *user,
			    const char *text)
{
	c->auth_id = 0;
	if (user[0] != '\0')
		(void)str_copy(c->auth_user, sizeof(c->auth_user), user);
	c->state = CLIENT_PREAUTH;
	c->input_blocked = false;
	c->auth_failed_once = true;
	c->proto->auth_failed(c, reason, text);
	if (!c->destroyed) {
		client_update_io(c);
		/* Commands that arrived during the exchange are handled now. */
		if (buf_len(&c->input) > 0 && !c->proto->input(c) && !c->destroyed)
			client_disconnect(c, NULL);
	}
}

void client_auth_reply_ok(struct client *c, const char *user, const uint8_t *token,
			  size_t token_len)
{
	c->sasl_ir_pending = false;
	struct login_handoff *msg = i_calloc(1, sizeof(*msg));
	static uint32_t next_handoff;
	int pair[2], fd;

	c->auth_id = 0;
	(void)str_copy(c->auth_user, sizeof(c->auth_user), user);
	if (++next_handoff == 0)
		next_handoff = 1;
	c->handoff_id = next_handoff;
	msg->req_id = c->handoff_id;
	memcpy(msg->token, token, token_len < sizeof(msg->token) ? token_len : sizeof(msg->token));
	msg->token_len = token_len;
	msg->flags =
		(c->tls != NULL ? LOGIN_HANDOFF_TLS : 0) | (c->secured ? LOGIN_HANDOFF_SECURED : 0);
	(void)str_copy(msg->rip, sizeof(msg->rip), c->rip_str);
	(void)str_copy(msg->lip, sizeof(msg->lip), c->lip_str);
	msg->rport = (uint16_t)c->rport;
	msg->lport = (uint16_t)c->lport;
	(void)str_copy(msg->session, sizeof(msg->session), c->session);
	(void)str_copy(msg->tag, sizeof(msg->tag), c->tag);
	if (c->tls != NULL) {
		/* TLS stays here: the mail process gets one end of a pair. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0) {
			log_error("socketpair() failed: %m");
			free(msg);
			c->handoff_id = 0;
			c->proto->handoff_failed(c, LOGIN_HANDOFF_TEMPFAIL, 0);
			return;
		}
		c->proxy_fd = pair[0];
		fd = pair[1];
		/* Pipelined commands go through the proxy like everything else. */
		(void)buf_append(&c->proxy_to_mail, buf_data(&c->input), buf_len(&c->input));
	} else {
		if (buf_len(&c->input) > sizeof(msg->input)) {
			free(msg);
			client_disconnect(c, "Disconnected: Too much pipelined input");
			return;
		}
		memcpy(msg->input, buf_data(&c->input), buf_len(&c->input));
		msg->input_len = buf_len(&c->input);
		fd = c->fd;
	}
	buf_reset(&c->input);
	c->state = CLIENT_HANDOFF;
	c->input_blocked = true;
	if (!master_conn_handoff(c, msg, fd)) {
		c->handoff_id = 0;
		c->proto->handoff_failed(c, LOGIN_HANDOFF_TEMPFAIL, 0);
	}
	if (c->tls != NULL)
		close(fd);
	explicit_bzero(msg->token, sizeof(msg->token));
	free(msg);
	client_update_io(c);
}

/* Proxy between the TLS client and the mail process's end of the pair. */

static void proxy_flush_to_mail(struct client *c)
{
	while (buf_len(&c->proxy_to_mail) > 0) {
		ssize_t n = send(c->proxy_fd, buf_data(&c->proxy_to_mail),
				 buf_len(&c->proxy_to_mail), MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				client_destroy(c);
			return;
		}
		buf_consume(&c->proxy_to_mail, (size_t)n);
	}
	buf_free(&c->proxy_to_mail);
	buf_init(&c->proxy_to_mail, PROXY_BUFFER_MAX);
}

static void proxy_read_mail(struct client *c)
{
	for (int rounds = 0; rounds < 8; rounds++) {
		size_t room = buf_room(&c->proxy_to_client);
		uint8_t *p;
		ssize_t n;

		if (room == 0)
			return;
		if (room > 16384)
			room = 16384;
		p = buf_reserve(&c->proxy_to_client, room);
		n = read(c->proxy_fd, p, room);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* The session ended: send what is left, then close. */
			io_remove(&c->proxy_io);
			close(c->proxy_fd);
			c->proxy_fd = -1;
			proxy_flush_to_client(c);
			if (!c->destroyed)
				client_destroy(c);
			return;
		}
		buf_commit(&c->proxy_to_client, (size_t)n);
		proxy_flush_to_client(c);
		if (c->destroyed)
			return;
	}
}

static void proxy_io(void *ctx, uint32_t events)
{
	struct client *c = ctx;

	if ((events & EPOLLOUT) != 0)
		proxy_flush_to_mail(c);
	if (!c->destroyed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
		proxy_read_mail(c);
	if (!c->destroyed) {
		proxy_update_io(c);
		client_update_io(c);
	}
}

static void proxy_update_io(struct client *c)
{
	uint32_t events = 0;

	if (c->proxy_io == NULL)
		return;
	if (buf_len(&c->proxy_to_mail) > 0)
		events |= EPOLLOUT;
	if (buf_room(&c->proxy_to_client) > 0 && buf_len(&c->proxy_to_client) == 0)
		events |= EPOLLIN;
	io_set_events(c->proxy_io, events);
	/* Client writes that could not finish wait for the client socket. */
	if (buf_len(&c->proxy_to_client) > 0 && c->io != NULL)
		io_set_events(c->io, EPOLLOUT | (buf_room(&c->proxy_to_mail) > 0 ? EPOLLIN : 0));
}

void client_handoff_reply(struct client *c, const struct login_handoff_reply *reply)
{
	struct buf line = BUF_INIT(4096);

	c->handoff_id = 0;
	if (reply->status != LOGIN_HANDOFF_OK) {
		if (c->proxy_fd >= 0) {
			close(c->proxy_fd);
			c->proxy_fd = -1;
		}
		buf_reset(&c->proxy_to_mail);
		c->state = CLIENT_PREAUTH;
		c->input_blocked = false;
		if (reply->status == LOGIN_HANDOFF_LIMIT)
			log_info("Maximum number of connections from user+IP exceeded "
				 "(mail_max_userip_connections=%u): user=<%s>, rip=%s, lip=%s, "
				 "session=<%s>",
				 reply->limit, c->auth_user, c->rip_str, c->lip_str, c->session);
		c->proto->handoff_failed(c, (enum login_handoff_status)reply->status, reply->limit);
		if (!c->destroyed)
			client_update_io(c);
		return;
	}
	(void)buf_append_str(&line, "Login: ");
	client_log_fields(c, &line, (pid_t)reply->mail_pid);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	timeout_remove(&c->idle_to);
	if (c->tls == NULL) {
		/* The mail process has the connection now. */
		client_destroy(c);
		return;
	}
	c->state = CLIENT_PROXY;
	c->input_blocked = false;
	c->proxy_io = io_add(c->proxy_fd, EPOLLIN, proxy_io, c);
	proxy_update_io(c);
	client_update_io(c);
}

struct client *clients_find_auth(uint32_t id)
{
	for (struct client *c = cl.clients; c != NULL; c = c->next) {
		if (c->auth_id == id)
			return c;
	}
	return NULL;
}

struct client *clients_find_auth_any(void)
{
	for (struct client *c = cl.clients; c != NULL; c = c->next) {
		if (c->auth_id != 0)
			return c;
	}
	return NULL;
}

struct client *clients_find_handoff(uint32_t id)
{
	for (struct client *c = cl.clients; c != NULL; c = c->next) {
		if (c->handoff_id == id)
			return c;
	}
	return NULL;
}
