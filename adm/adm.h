/*
 * roostadm: the administrator's command-line tool. Each command lives in
 * its own cmd-*.c file and is listed in main.c. Commands that talk to the
 * running server go through master's admin socket (admin-client.c).
 */
#ifndef ROOST_ADM_H
#define ROOST_ADM_H

#include <stdbool.h>

#include "ipc/msg-admin.h"
#include "settings.h"

/* Exit codes shared with doveadm where it has them. */
#define ADM_EXIT_OK	  0
#define ADM_EXIT_USAGE	  64
#define ADM_EXIT_DATAERR  65 /* the mailbox to create exists already */
#define ADM_EXIT_NOUSER	  67 /* mail commands: the userdb has no such user */
#define ADM_EXIT_NOTFOUND 68 /* "no users kicked", no such mailbox and the like */
#define ADM_EXIT_TEMPFAIL 75 /* server not running, storage failing */
#define ADM_EXIT_CONFIG	  89

struct adm_context {
	const char *config_path;
	bool config_given;	    /* -c on the command line */
	struct roost_settings *set; /* NULL until adm_settings() is called */
	/* adm_settings_lenient(): the configuration did not parse; requests
	   go to base_dir as the file names it, and config_error is shown
	   only if no server answers. */
	char *config_error;
	char base_dir[1024];
};

/* Loads the configuration (fatal with file:line on error). */
const struct roost_settings *adm_settings(struct adm_context *ctx);
/*
 * For requests the running server must judge (reload, stop): loads the
 * configuration if it parses, else remembers its error and finds base_dir
 * anyway, so that the request still reaches master.
 */
void adm_settings_lenient(struct adm_context *ctx);

/*
 * Sends one request to master and calls row_cb for every answer row until
 * ADMIN_DONE. Returns the DONE status (0 = success) with its message, or
 * exits 75 with a clear error when the server is not running.
 */
typedef void adm_row_callback_t(void *ctx, uint16_t type, const union admin_msg_any *row);
uint32_t adm_request(struct adm_context *ctx, uint16_t type, const struct admin_request *req,
		     adm_row_callback_t *row_cb, void *cb_ctx, const char **message_r);

enum adm_userdb_result {
	ADM_USERDB_OK,
	ADM_USERDB_NOT_FOUND,
	ADM_USERDB_NO_SERVER, /* auth-userdb does not answer: roost is not running */
	ADM_USERDB_FAILED,    /* auth failed or answered nonsense */
};

struct auth_master_redeem_reply;
/*
 * Looks user up through the running auth service (base_dir/auth-userdb).
 * Every result but OK has been explained on stderr already.
 */
enum adm_userdb_result adm_userdb_lookup(struct adm_context *ctx, const char *user,
					 struct auth_master_redeem_reply *reply_r);

struct mail_user;
/*
 * Opens user's mail as doveadm does: the userdb lookup, then, as root, a
 * switch to the user's uid and gid with no supplementary groups (a caller
 * that is not root must already be that uid), the storage opened (and
 * created) as the user, and the sandbox: Landlock to the user's home and
 * mail directories and the store's seccomp list (adm/sandbox.c). Returns
 * ADM_EXIT_OK with mu ready, or the exit code after explaining on stderr:
 * NOUSER, TEMPFAIL (no server, storage unavailable), CONFIG.
 */
int adm_mail_user_open(struct adm_context *ctx, const char *user, struct mail_user *mu);

int cmd_stop(struct adm_context *ctx, int argc, char **argv);
int cmd_reload(struct adm_context *ctx, int argc, char **argv);
int cmd_log(struct adm_context *ctx, int argc, char **argv);
int cmd_who(struct adm_context *ctx, int argc, char **argv);
int cmd_kick(struct adm_context *ctx, int argc, char **argv);
int cmd_stats(struct adm_context *ctx, int argc, char **argv);
int cmd_config(struct adm_context *ctx, int argc, char **argv);
int cmd_pw(struct adm_context *ctx, int argc, char **argv);
int cmd_user(struct adm_context *ctx, int argc, char **argv);
int cmd_sieve(struct adm_context *ctx, int argc, char **argv);
int cmd_mount(struct adm_context *ctx, int argc, char **argv);
int cmd_mailbox(struct adm_context *ctx, int argc, char **argv);
int cmd_force_resync(struct adm_context *ctx, int argc, char **argv);

#endif
