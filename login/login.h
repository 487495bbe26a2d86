/*
 * roost-login: the pre-authentication front end for IMAP and POP3. One
 * process serves up to client_limit clients, speaks the protocol until the
 * client authenticates (relaying SASL to auth), then hands the connection
 * to master and, for TLS clients, proxies between TLS and the mail process.
 * Everything a client sends is hostile; the process runs as roostnull in
 * an empty chroot with no filesystem access.
 */
#ifndef ROOST_LOGIN_H
#define ROOST_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ipc/msg-auth.h"
#include "ipc/msg-login.h"
#include "net.h"
#include "settings.h"

struct client;
struct tls_context;
struct tls_conn;

/* What the protocol layers (imap-login.c, pop3-login.c) provide. */
struct login_protocol {
	const char *name; /* "imap" or "pop3" */
	/* Sends the greeting; called once the connection (and implicit TLS) is up. */
	void (*greet)(struct client *c);
	/*
	 * Consumes complete commands from c->input. Returns false when the
	 * client must be disconnected (the protocol already said why).
	 */
	bool (*input)(struct client *c);
	/* A SASL challenge (base64) to relay to the client. */
	void (*auth_continue)(struct client *c, const char *challenge_b64, size_t len);
	/* Authentication failed with reason; text is auth's text for DISABLED. */
	void (*auth_failed)(struct client *c, enum auth_fail_reason reason, const char *text);
	/* master refused the session (limit, temporary failure). */
	void (*handoff_failed)(struct client *c, enum login_handoff_status status,
			       unsigned int limit);
	/* Sent when the idle timeout hits, before disconnecting. */
	void (*idle_timeout)(struct client *c);
	/* Frees what the protocol keeps in proto_ctx (optional; then free()). */
	void (*destroy)(void *proto_ctx);
};

enum client_state {
	CLIENT_TLS_HANDSHAKE,  /* implicit TLS or STARTTLS in progress */
	CLIENT_PREAUTH,	       /* reading commands */
	CLIENT_AUTHENTICATING, /* a SASL exchange with auth is under way */
	CLIENT_HANDOFF,	       /* waiting for master to start the session */
	CLIENT_PROXY,	       /* TLS: relaying between client and mail process */
	CLIENT_DESTROYED,
};

struct client {
	const struct login_protocol *proto;
	enum client_state state;
	int fd;
	struct io *io;
	struct timeout *idle_to;
	struct timeout *free_to; /* deferred free after destruction */
	struct buf input;
	struct buf output;
	struct tls_conn *tls;
	bool tls_after_output; /* STARTTLS: start the handshake once output is sent */
	bool disconnect_after_output;
	bool destroyed;
	bool input_blocked; /* stop reading until an answer is out */
	bool greeted;
	bool tls_want_write; /* TLS needs the socket writable to go on */

	struct net_ip rip, lip;
	char rip_str[NET_IP_STR_MAX], lip_str[NET_IP_STR_MAX];
	unsigned int rport, lport;
	bool secured; /* TLS, or from the local host */
	char session[LOGIN_SESSION_MAX];
	uint64_t created_ms;

	/* Authentication. */
	uint32_t auth_id;
	char mech[AUTH_MECH_MAX];
	char auth_user[POLICY_USER_MAX]; /* the user as last tried, for logs */
	unsigned int auth_attempts;
	bool auth_failed_once;
	bool plaintext_refused;	 /* tried LOGIN/USER without TLS where it is refused */
	char tag[LOGIN_TAG_MAX]; /* IMAP: the tag of the pending command */
	bool sasl_ir_pending;	 /* AUTHENTICATE waiting for the client's response */
	void *proto_ctx;	 /* protocol-private state */

	/* Hand-off and proxy. */
	uint32_t handoff_id;
	int proxy_fd;
	struct io *proxy_io;
	struct buf proxy_to_mail;
	struct buf proxy_to_client;

	struct client *prev, *next;
};

/* main.c */
extern struct roost_settings *login_set; /* protocol view for our service */
extern const struct roost_settings *login_global_set;
extern const struct service_settings *login_service_set;
extern struct tls_context *login_tls;	/* NULL when ssl = no */
extern char login_service_name[32];	/* imap-login or pop3-login */
extern const char *login_protocol_name; /* imap or pop3 */

/* client.c */
void clients_init(const int *listen_fds, const bool *listen_ssl, unsigned int count);
unsigned int clients_count(void);
/* Queues output for the client (bounded; an overflow disconnects it). */
void client_send(struct client *c, const char *data, size_t len);
void client_send_str(struct client *c, const char *str);
void client_printf(struct client *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Disconnects after the queued output has been sent (or at once). */
void client_disconnect(struct client *c, const char *log_reason);
/* Starts TLS after the pending output (STARTTLS/STLS). */
void client_start_tls(struct client *c);
/* Whether plaintext mechanisms are allowed on this connection now. */
bool client_plaintext_allowed(const struct client *c);
/* The "Aborted login"/"Disconnected" log line, in Dovecot's shape. */
void client_log_disconnect(struct client *c, const char *reason);

/* Starts a SASL exchange with auth; initial may be NULL. */
void client_auth_begin(struct client *c, const char *mech, const char *initial, size_t len,
		       bool has_initial);
/* The client's answer to a challenge ("*" aborts, as the protocols say). */
void client_auth_respond(struct client *c, const char *data, size_t len);

/* auth-conn.c */
void auth_conn_set_fd(int fd);
bool auth_conn_available(void);
bool auth_conn_request(struct client *c, const struct auth_login_request *req);
void auth_conn_respond(struct client *c, const char *data, size_t len);
void auth_conn_abort(struct client *c);
/* Called by auth-conn when auth answers. */
void client_auth_reply_continue(struct client *c, const uint8_t *data, size_t len);
void client_auth_reply_ok(struct client *c, const char *user, const uint8_t *token,
			  size_t token_len);
void client_auth_reply_fail(struct client *c, enum auth_fail_reason reason, const char *user,
			    const char *text);
struct client *clients_find_auth(uint32_t id);
/* Any client waiting for auth (when the auth connection is lost). */
struct client *clients_find_auth_any(void);
struct client *clients_find_handoff(uint32_t id);

/* master-conn.c */
void master_conn_init(int fd);
/* Sends the client's hand-off; false if master is gone. */
bool master_conn_handoff(struct client *c, const struct login_handoff *msg, int fd);
void master_conn_status(void);
void client_handoff_reply(struct client *c, const struct login_handoff_reply *reply);

extern const struct login_protocol imap_login_protocol;
extern const struct login_protocol pop3_login_protocol;

#endif
