/*
 * Shared state of the roost master process (root): services and their
 * processes, the policy client, the admin socket, limits. Everything in
 * this folder runs in master; it parses configuration and its children's
 * messages, never bytes from a remote peer.
 */
#ifndef ROOST_MASTER_H
#define ROOST_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ipc/ipc.h"
#include "ipc/msg-auth.h"
#include "ipc/msg-mail.h"
#include "ipc/msg-policy.h"
#include "ipc/msg-stats.h"
#include "settings.h"

enum service_kind {
	SERVICE_POLICY,
	SERVICE_AUTH,
	SERVICE_LOGIN,
	SERVICE_MAIL,
};

struct service;
struct master_session;

struct process {
	struct service *service;
	pid_t pid;
	uid_t uid; /* the identity it runs as */
	gid_t gid;
	uint64_t started_ms;
	bool ready;
	bool stopping; /* master asked it to stop: its end is not a failure */
	/* Mail processes: idle until master hands them a session. */
	struct master_session *session;
	struct ipc_conn *conn;
	int log_fd;
	struct io *log_io;
	struct buf log_partial;
	char log_prefix[POLICY_USER_MAX + 64];
	unsigned int clients;
	struct process *next;
};

struct service {
	const char *name;
	enum service_kind kind;
	const char *binary;
	char *argv[2]; /* the binary's name, for execve() */
	const struct service_settings *set;
	uid_t uid;
	gid_t gid;
	char chroot_dir[1024];
	int listen_fds[8];
	bool listen_ssl[8];
	unsigned int listen_count;
	/* Mail services: the identity of pre-started processes (mail_uid). */
	bool prestart;
	uid_t prestart_uid;
	gid_t prestart_gid;
	unsigned int idle_count;
	struct process *processes;
	unsigned int process_count;
	/* Restart throttling after failed start-ups. */
	unsigned int throttle_secs;
	struct timeout *throttle_to;
	/* Pre-started mail processes are replaced after the login is answered. */
	struct timeout *refill_to;
	/* Counters for `roostadm stats`. */
	uint64_t started, crashes;
};

struct master {
	struct roost_settings *set;
	const char *config_path;
	const char *defaults_path;
	bool foreground;
	bool is_root;
	bool stopping;
	char libexec_dir[1024];
	struct buf settings_text; /* what every child is handed */
	struct service *services;
	unsigned int service_count;
	int pidfile_fd;
	char pidfile_path[1100];
	char admin_path[1100];
	int admin_fd;
	struct io *admin_io;
	int userdb_fd; /* base_dir/auth-userdb, handed to auth */
	/* TLS material read as root, handed to login processes only. */
	struct buf tls_cert, tls_key, tls_dh;
	char userdb_path[1100];
	uint64_t next_session_id;
};

extern struct master master;

/* service.c */
void services_init(void);
void services_start(void);
void services_stop_all(bool wait);
/* Called on SIGCHLD: reaps every exited child and logs how it ended. */
void services_reap(void);
struct service *service_lookup(const char *name);
/* Whether protocol (imap, pop3) is listed in the protocols setting. */
bool master_protocol_enabled(const char *protocol);
struct process *process_lookup(pid_t pid);
/* Regenerates the flattened settings handed to new children. */
void services_settings_changed(void);
/*
 * Writes into out the settings text every child is handed and parses at
 * its start (a mail process: once per session), kept short: what differs
 * from the defaults, or else the full text with every line removed whose
 * absence leaves the parsed settings the same. Every candidate is checked
 * by parsing it, so a child always sees exactly set; the full text is the
 * fallback. settings_write()'s secrets rule applies (none are written).
 */
void master_settings_text(const struct roost_settings *set, struct buf *out);
/* Reads the TLS files again (after a reload). */
void services_tls_reload(void);
/* Restarts the long-running helpers so they pick up new settings. */
void services_reload(void);
unsigned int services_process_count(void);

/*
 * Starts a mail process of svc running as uid/gid (idle until a session is
 * assigned), or returns an idle one with that identity. NULL when
 * process_limit is reached or fork fails.
 */
struct process *mail_process_get(struct service *svc, uid_t uid, gid_t gid);
/*
 * Hands a session and its client descriptor to an idle mail process. The
 * pool of pre-started processes is not refilled here: the caller answers
 * the login first and then calls service_refill_later().
 */
bool mail_process_assign(struct process *proc, struct master_session *session, int client_fd,
			 const struct mail_session *msg);
/* Tops the service's processes up from the event loop, after the current events. */
void service_refill_later(struct service *svc);

/* Describes a child's end in Dovecot's words ("returned error 83 (...)"). */
void master_describe_exit(const struct service *svc, pid_t pid, int status, struct buf *out);

/* log-relay.c */
/* Starts relaying a child's stderr pipe with master-chosen prefix. */
void log_relay_start(struct process *proc, int fd);
/* Reads whatever the child left in the pipe, then stops relaying. */
void log_relay_finish(struct process *proc);

/* limits.c */
/* Reads /etc/default/roost and sets RLIMIT_NOFILE; fatal on a bad file. */
void limits_apply_defaults_file(const char *path);
/* Warns when RLIMIT_NOFILE is too low for the configured processes. */
void limits_check_fds(const struct roost_settings *set);

/* policy-client.c */
typedef void policy_reply_callback_t(void *ctx, const union policy_msg_any *reply, bool last);
void policy_client_attach(struct process *proc);
/* Forgets proc as the policy process (no-op if it is not the current one). */
void policy_client_detach(struct process *proc);
/* Whether a policy process is running (requests are queued until then). */
bool policy_client_available(void);
/*
 * Sends a request that expects replies; cb is called for each row and once
 * with last=true (reply NULL if policy died before answering).
 */
void policy_request(uint16_t type, void *msg, uint32_t *req_id_field, policy_reply_callback_t *cb,
		    void *ctx);
/* Drops every outstanding request made with ctx (its owner is going away). */
void policy_request_cancel(void *ctx);
/* Sends a message that expects no answer (end of session, counters). */
void policy_notify(uint16_t type, const void *msg);
/* Dispatches a policy reply; false on a protocol violation. */
bool policy_client_input(struct process *proc, struct ipc_message *msg);

/* admin.c */
void admin_init(void);
void admin_deinit(void);

/* lda-stats.c: roost-lda's delivery reports (base_dir/lda-stats). */
/* Creates the socket with auth-userdb's group and mode (call after
   services_init()); fatal if it cannot be created. */
void lda_stats_init(void);
/* Closes the socket and every reporter's connection, removes the file. */
void lda_stats_deinit(void);
/* Deliveries reported with that outcome since master started. */
uint64_t lda_stats_count(enum stats_delivery_outcome outcome);

/* auth-client.c: master's side of the auth channel. */
typedef void auth_redeem_callback_t(void *ctx, const struct auth_master_redeem_reply *reply);
void auth_client_attach(struct process *proc);
void auth_client_detach(struct process *proc);
/* Gives a new login process its connection to auth (now or when auth is up). */
void auth_client_connect_login(struct process *login);
/* Redeems a one-time token; cb gets NULL if auth is not available. */
void auth_client_redeem(const struct auth_master_redeem *req, auth_redeem_callback_t *cb,
			void *ctx);
void auth_client_cancel(void *ctx);
bool auth_client_input(struct process *proc, struct ipc_message *msg);

/* handoff.c: a login process hands an authenticated client over. */
bool handoff_input(struct process *login, struct ipc_message *msg);
/* A login process went away: forget its pending hand-offs. */
void handoff_login_gone(struct process *login);

/* sessions.c: live mail sessions (sent again to a restarted policy). */
struct master_session {
	uint64_t id;
	pid_t pid;
	struct process *proc;
	uint64_t start_time;
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
	struct master_session *next;
};

struct master_session *master_session_add(uint64_t id, pid_t pid, const char *service,
					  const char *user, const char *ip, uint64_t start_time);
/* The session a mail process serves, or NULL (also for non-mail pids). */
struct master_session *master_session_by_pid(pid_t pid);
/* Forgets the session and tells policy it ended. */
void master_session_remove(struct master_session *session);
void master_sessions_replay(void);

/* notify.c: systemd readiness (NOTIFY_SOCKET), e.g. "READY=1". */
void master_notify(const char *state);

/* main.c */
void master_request_stop(void);
/*
 * Reads the configuration again and applies it. When it does not parse the
 * running configuration stays and false is returned with *error_r
 * ("FILE:LINE: problem", caller frees), which was also logged.
 */
bool master_reload(char **error_r);
void master_log_reopen(void);

#endif
