/*
 * The channels of roost-auth: with each login process (SASL exchanges for
 * remote clients: everything login relays is untrusted), with master
 * (token redemption, failure accounting, new login connections) and with
 * local delivery (the auth-userdb socket: userdb lookups).
 */
#ifndef ROOST_MSG_AUTH_H
#define ROOST_MSG_AUTH_H

#include "ipc-codec.h"
#include "msg-policy.h"

#define AUTH_TOKEN_SIZE	   32
#define AUTH_MECH_MAX	   32
#define AUTH_SASL_DATA_MAX 16384 /* base64 text of one SASL step */
#define AUTH_PATH_MAX	   1024
#define AUTH_EXTRA_MAX	   4096
#define AUTH_REASON_MAX	   256
#define AUTH_USERDB_SOCKET "auth-userdb"

/* auth <-> login, on a socketpair master creates for each login process. */
enum auth_login_msg_type {
	AUTH_LOGIN_REQUEST = 1,	   /* login -> auth: start a SASL exchange */
	AUTH_LOGIN_RESPONSE = 2,   /* login -> auth: the client's next response */
	AUTH_LOGIN_ABORT = 3,	   /* login -> auth: the client gave up */
	AUTH_LOGIN_CONTINUE = 100, /* auth -> login: a challenge to relay */
	AUTH_LOGIN_OK = 101,	   /* auth -> login: authenticated, with a token */
	AUTH_LOGIN_FAIL = 102,	   /* auth -> login: failed (after the delay) */
};

enum auth_request_flags {
	AUTH_REQUEST_SECURED = 0x01, /* TLS, or from the local host */
	AUTH_REQUEST_TLS = 0x02,
	AUTH_REQUEST_HAS_INITIAL = 0x04, /* SASL-IR / PLAIN in one step */
};

enum auth_fail_reason {
	AUTH_FAIL_CREDENTIALS = 0, /* wrong user or password: look the same */
	AUTH_FAIL_TEMP = 1,	   /* passdb unavailable, try later */
	AUTH_FAIL_DISABLED = 2,	   /* nologin: reason text may be shown */
	AUTH_FAIL_PLAINTEXT = 3,   /* plaintext mechanism over an insecure link */
	AUTH_FAIL_MECH = 4,	   /* unknown or disabled mechanism */
	AUTH_FAIL_MALFORMED = 5,   /* the client's SASL data did not parse */
	AUTH_FAIL_ABORTED = 6,
};

struct auth_login_request {
	uint32_t id;
	uint32_t flags;
	char service[POLICY_SERVICE_MAX];
	char mech[AUTH_MECH_MAX];
	char rip[POLICY_IP_MAX];
	char lip[POLICY_IP_MAX];
	char session[48];
	uint8_t initial[AUTH_SASL_DATA_MAX]; /* base64, as the client sent it */
	size_t initial_len;
};

struct auth_login_response {
	uint32_t id;
	uint8_t data[AUTH_SASL_DATA_MAX]; /* base64 */
	size_t data_len;
};

struct auth_login_abort {
	uint32_t id;
};

struct auth_login_continue {
	uint32_t id;
	uint8_t data[AUTH_SASL_DATA_MAX]; /* base64 */
	size_t data_len;
};

struct auth_login_ok {
	uint32_t id;
	char user[POLICY_USER_MAX];
	uint8_t token[AUTH_TOKEN_SIZE];
	size_t token_len;
};

struct auth_login_fail {
	uint32_t id;
	uint32_t reason;	    /* enum auth_fail_reason */
	char user[POLICY_USER_MAX]; /* as the client gave it, for the log */
	char text[AUTH_REASON_MAX]; /* shown to the client for DISABLED */
};

union auth_login_msg_any {
	struct auth_login_request request;
	struct auth_login_response response;
	struct auth_login_abort abort;
	struct auth_login_continue cont;
	struct auth_login_ok ok;
	struct auth_login_fail fail;
};

extern const struct ipc_channel auth_login_channel;
#define AUTH_LOGIN_MSG(type) (ipc_channel_find(&auth_login_channel, (type)))

/* auth <-> master, on auth's IPC_MASTER_FD (after the child start-up). */
enum auth_master_msg_type {
	AUTH_MASTER_CLIENT = 1,		/* master -> auth: a new login process (+ fd) */
	AUTH_MASTER_REDEEM = 2,		/* master -> auth: redeem a token */
	AUTH_MASTER_PENALTY = 3,	/* master -> auth: extra delay for a failed IP */
	AUTH_MASTER_REDEEM_REPLY = 100, /* auth -> master */
	AUTH_MASTER_RESULT = 101,	/* auth -> master: an attempt's outcome */
};

struct auth_master_client {
	uint32_t login_pid;
	char service[POLICY_SERVICE_MAX]; /* imap or pop3 */
};

struct auth_master_redeem {
	uint32_t req_id;
	uint8_t token[AUTH_TOKEN_SIZE];
	size_t token_len;
	uint32_t login_pid;
	char service[POLICY_SERVICE_MAX];
	char rip[POLICY_IP_MAX];
};

enum auth_userdb_status {
	USERDB_OK = 0,
	USERDB_NOT_FOUND = 1,
	USERDB_TEMPFAIL = 2,
};

/* A resolved user: what master needs to start the mail process. */
struct auth_master_redeem_reply {
	uint32_t req_id;
	uint32_t status; /* enum auth_userdb_status; NOT_FOUND = bad token */
	char user[POLICY_USER_MAX];
	uint32_t uid;
	uint32_t gid;
	char home[AUTH_PATH_MAX];
	char mail[AUTH_PATH_MAX];
	char extra[AUTH_EXTRA_MAX]; /* tab-separated key=value userdb fields */
};

struct auth_master_result {
	uint32_t req_id; /* non-zero: a failure waiting for its penalty */
	char service[POLICY_SERVICE_MAX];
	char rip[POLICY_IP_MAX];
	uint8_t success;
	uint8_t tls;
};

struct auth_master_penalty {
	uint32_t req_id;
	uint32_t delay_msecs;
};

union auth_master_msg_any {
	struct auth_master_client client;
	struct auth_master_redeem redeem;
	struct auth_master_penalty penalty;
	struct auth_master_redeem_reply redeem_reply;
	struct auth_master_result result;
};

extern const struct ipc_channel auth_master_channel;
#define AUTH_MASTER_MSG(type) (ipc_channel_find(&auth_master_channel, (type)))

/* The auth-userdb socket: roost-lda (and roostadm user) ask for a user. */
enum auth_userdb_msg_type {
	AUTH_USERDB_LOOKUP = 1,
	AUTH_USERDB_REPLY = 100,
};

struct auth_userdb_lookup {
	uint32_t id;
	char user[POLICY_USER_MAX];
	char service[POLICY_SERVICE_MAX]; /* lda, doveadm, ... */
};

/* The reply reuses the redeem reply's fields (req_id is the lookup id). */
union auth_userdb_msg_any {
	struct auth_userdb_lookup lookup;
	struct auth_master_redeem_reply reply;
};

extern const struct ipc_channel auth_userdb_channel;
#define AUTH_USERDB_MSG(type) (ipc_channel_find(&auth_userdb_channel, (type)))

#endif
