/*
 * The login -> master hand-off: after auth accepted a client, the login
 * process passes the connection (or, with TLS, its end of the proxy pair),
 * the one-time token and the bytes the client already sent. master trusts
 * none of it: it redeems the token with auth, which says who the user is.
 */
#ifndef ROOST_MSG_LOGIN_H
#define ROOST_MSG_LOGIN_H

#include "ipc-codec.h"
#include "msg-auth.h"

#define LOGIN_INPUT_MAX	  8192 /* pipelined client bytes handed over */
#define LOGIN_TAG_MAX	  256
#define LOGIN_SESSION_MAX 48

enum login_msg_type {
	LOGIN_HANDOFF = 1,	   /* login -> master, with the client fd */
	LOGIN_HANDOFF_REPLY = 100, /* master -> login */
	LOGIN_AUTH_CONNECT = 101,  /* master -> login: a (new) connection to auth, + fd */
	LOGIN_TLS_DATA = 102,	   /* master -> login at start-up: certificate, key */
	LOGIN_TLS_END = 103,	   /* master -> login: no more TLS data */
};

#define LOGIN_TLS_CHUNK_MAX (IPC_MAX_PAYLOAD - 64)

enum login_handoff_flags {
	LOGIN_HANDOFF_TLS = 0x01,
	LOGIN_HANDOFF_SECURED = 0x02,
};

struct login_handoff {
	uint32_t req_id;
	uint8_t token[AUTH_TOKEN_SIZE];
	size_t token_len;
	uint32_t flags;
	char rip[POLICY_IP_MAX];
	char lip[POLICY_IP_MAX];
	uint16_t rport;
	uint16_t lport;
	char session[LOGIN_SESSION_MAX];
	char tag[LOGIN_TAG_MAX]; /* IMAP: the tag of LOGIN/AUTHENTICATE */
	uint8_t input[LOGIN_INPUT_MAX];
	size_t input_len;
};

enum login_handoff_status {
	LOGIN_HANDOFF_OK = 0,
	LOGIN_HANDOFF_LIMIT = 1,    /* mail_max_userip_connections reached */
	LOGIN_HANDOFF_TEMPFAIL = 2, /* could not start the session now */
	LOGIN_HANDOFF_DENIED = 3,   /* token refused, uid not allowed ... */
};

struct login_handoff_reply {
	uint32_t req_id;
	uint32_t status;
	uint32_t mail_pid;
	uint32_t limit;
};

struct login_auth_connect {
	uint32_t reserved;
};

/* One piece of a file master read for login: ssl_cert, ssl_key, ssl_ca,
 * or the ssl_key_password setting. Pieces of one name are concatenated. */
struct login_tls_data {
	char name[32];
	uint8_t data[LOGIN_TLS_CHUNK_MAX];
	size_t data_len;
};

struct login_tls_end {
	uint32_t reserved;
};

union login_msg_any {
	struct login_handoff handoff;
	struct login_handoff_reply reply;
	struct login_auth_connect auth_connect;
	struct login_tls_data tls_data;
	struct login_tls_end tls_end;
};

extern const struct ipc_channel login_channel;
#define LOGIN_MSG(type) (ipc_channel_find(&login_channel, (type)))

#endif
