/*
 * roost-auth: passdb and userdb lookups, password verification, SASL,
 * and one-time login tokens. Runs as default_internal_user with read-only
 * access to its passdb/userdb files. User names and SASL data come from
 * remote clients through the login processes: all hostile.
 */
#ifndef ROOST_AUTH_H
#define ROOST_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/msg-auth.h"
#include "settings.h"

extern const struct roost_settings *auth_set;

/* db.c: passdbs and userdbs from the configuration. */
enum auth_db_result {
	AUTH_DB_OK,
	AUTH_DB_MISMATCH, /* wrong password */
	AUTH_DB_UNKNOWN_USER,
	AUTH_DB_DISABLED, /* nologin, allow_nets, deny */
	AUTH_DB_TEMPFAIL, /* file unreadable, unknown scheme ... */
};

struct auth_db_user {
	char user[POLICY_USER_MAX];   /* the normalized name */
	char reason[AUTH_REASON_MAX]; /* nologin reason= for the client */
	bool nodelay;
};

/* Reads the configured files (called after the sandbox is entered). */
void auth_db_init(void);
/* Paths Landlock must let auth read: the directories of the files. */
unsigned int auth_db_paths(const char **paths, unsigned int max);
/*
 * Checks user's password against the passdbs. user is the normalized name;
 * rip is used for allow_nets and log lines.
 */
enum auth_db_result auth_passdb_verify(const char *user, const char *password, const char *rip,
				       struct auth_db_user *result_r);
/*
 * The stored password of user (for SCRAM); false when unknown. The string
 * is valid until the next lookup.
 */
enum auth_db_result auth_passdb_credentials(const char *user, const char *rip,
					    const char **stored_r, const char **default_scheme_r,
					    struct auth_db_user *result_r);
/* Resolves user for a session or for roost-lda. */
enum auth_userdb_status auth_userdb_lookup(const char *user, struct auth_master_redeem_reply *r);
/* Normalizes a login name (auth_username_format, realm, allowed chars). */
bool auth_user_name(const char *raw, size_t len, char *out, size_t size);

/* token.c: one-time login tokens. */
/* How long a token stays valid: master redeems it within milliseconds. */
#define AUTH_TOKEN_LIFETIME_MSECS (15 * 1000)
void auth_tokens_init(unsigned int lifetime_msecs);
/* Creates a token for user bound to the login pid, service and IP. */
bool auth_token_create(const char *user, uint32_t login_pid, const char *service, const char *rip,
		       uint8_t token_r[AUTH_TOKEN_SIZE]);
/* Redeems (and deletes) a token; false if unknown, expired or bound otherwise. */
bool auth_token_redeem(const uint8_t *token, size_t len, uint32_t login_pid, const char *service,
		       const char *rip, char *user_r, size_t user_size);

/* master.c: the channel to master. */
void auth_master_init(int fd);
/* Reports an attempt; for a failure waiting on its penalty, req_id != 0. */
void auth_master_result(uint32_t req_id, const char *service, const char *rip, bool success,
			bool tls);

/* request.c: SASL exchanges with login processes. */
void auth_login_conn_add(int fd, uint32_t login_pid, const char *service);
/* master's answer with the extra delay for a failed IP. */
void auth_request_penalty(uint32_t req_id, uint32_t delay_msecs);

/* userdb-server.c: the auth-userdb socket. */
void auth_userdb_server_init(int listen_fd);

#endif
