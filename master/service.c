/*
 * Services and their processes in master: spawning by fork+exec with the
 * start-up hand-over, reaping, turning every abnormal end into one clear
 * log line, restarting what must run and throttling crash loops. Runs as
 * root; children's messages are decoded with the channel tables and
 * nothing a child says is trusted beyond its own process record.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "ipc/msg-child.h"
#include "ipc/msg-login.h"
#include "log.h"
#include "master.h"
#include "net.h"
#include "xalloc.h"

#define THROTTLE_FIRST_SECS 2
#define THROTTLE_MAX_SECS   60
#define STOP_GRACE_MSECS    5000

struct service_kind_info {
	const char *name;
	enum service_kind kind;
	const char *binary;
	const char *protocol; /* login and mail services run only if listed */
};

static const struct service_kind_info service_kinds[] = {
	{"policy", SERVICE_POLICY, "roost-policy", NULL},
	{"auth", SERVICE_AUTH, "roost-auth", NULL},
	{"imap-login", SERVICE_LOGIN, "roost-login", "imap"},
	{"pop3-login", SERVICE_LOGIN, "roost-login", "pop3"},
	{"imap", SERVICE_MAIL, "roost-imap", "imap"},
	{"pop3", SERVICE_MAIL, "roost-pop3", "pop3"},
};

static void spawn_prepare(void);

bool master_protocol_enabled(const char *protocol)
{
	const char *p = master.set->protocols;
	size_t len = strlen(protocol);

	while ((p = strstr(p, protocol)) != NULL) {
		bool start = p == master.set->protocols || p[-1] == ' ' || p[-1] == ',';
		bool end = p[len] == '\0' || p[len] == ' ' || p[len] == ',';

		if (start && end)
			return true;
		p += len;
	}
	return false;
}

struct service *service_lookup(const char *name)
{
	for (unsigned int i = 0; i < master.service_count; i++) {
		if (strcmp(master.services[i].name, name) == 0)
			return &master.services[i];
	}
	return NULL;
}

struct process *process_lookup(pid_t pid)
{
	for (unsigned int i = 0; i < master.service_count; i++) {
		for (struct process *p = master.services[i].processes; p != NULL; p = p->next) {
			if (p->pid == pid)
				return p;
		}
	}
	return NULL;
}

unsigned int services_process_count(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < master.service_count; i++)
		n += master.services[i].process_count;
	return n;
}

static const char *useradd_hint(const char *user)
{
	static char hint[512];

	(void)str_format(hint, sizeof(hint),
			 "useradd --system --no-create-home --home-dir /nonexistent "
			 "--shell /usr/sbin/nologin %s",
			 user);
	return hint;
}

/* Resolves the service's user and group; fatal with advice when missing. */
static void service_resolve_user(struct service *svc)
{
	const struct service_settings *set = svc->set;
	struct passwd *pw;

	if (!master.is_root || set->user[0] == '\0') {
		svc->uid = geteuid();
		svc->gid = getegid();
		return;
	}
	pw = getpwnam(set->user);
	if (pw == NULL) {
		const char *which = strcmp(set->user, master.set->default_login_user) == 0
					    ? "default_login_user"
				    : strcmp(set->user, master.set->default_internal_user) == 0
					    ? "default_internal_user"
					    : "service user";

		fatal("User %s (%s of service %s) does not exist: create it with: %s", set->user,
		      which, svc->name, useradd_hint(set->user));
	}
	if (pw->pw_uid == 0)
		fatal("service(%s): user %s is root: services never run as root", svc->name,
		      set->user);
	svc->uid = pw->pw_uid;
	svc->gid = pw->pw_gid;
	if (set->group[0] != '\0') {
		struct group *gr = getgrnam(set->group);

		if (gr == NULL)
			fatal("Group %s (of service %s) does not exist: create it with: groupadd "
			      "--system %s",
			      set->group, svc->name, set->group);
		svc->gid = gr->gr_gid;
	}
}

static void service_prepare_chroot(struct service *svc)
{
	const char *dir = svc->set->chroot;
	struct stat st;

	svc->chroot_dir[0] = '\0';
	if (dir[0] == '\0' || !master.is_root)
		return;
	if (dir[0] == '/')
		(void)str_copy(svc->chroot_dir, sizeof(svc->chroot_dir), dir);
	else if (!str_format(svc->chroot_dir, sizeof(svc->chroot_dir), "%s/%s",
			     master.set->base_dir, dir))
		fatal("service(%s): chroot path too long", svc->name);
	if (mkdir(svc->chroot_dir, 0755) < 0 && errno != EEXIST)
		fatal("service(%s): mkdir(%s) failed: %m", svc->name, svc->chroot_dir);
	if (stat(svc->chroot_dir, &st) < 0)
		fatal("service(%s): stat(%s) failed: %m", svc->name, svc->chroot_dir);
	if (st.st_uid != 0 || (st.st_mode & 022) != 0)
		fatal("service(%s): chroot %s must be owned by root and not writable by others",
		      svc->name, svc->chroot_dir);
}

/* Binds the inet listeners of a login service; fatal when one cannot be bound. */
static void service_listen(struct service *svc)
{
	const struct service_settings *set = svc->set;

	for (unsigned int i = 0; i < set->inet_listener_count; i++) {
		const struct inet_listener_settings *l = &set->inet_listeners[i];
		const char *p = l->address;

		if (l->port == 0)
			continue;
		while (*p != '\0') {
			char addr[NET_IP_STR_MAX];
			size_t len = strcspn(p, ", \t");
			int fd;

			if (len > 0 && str_copy_n(addr, sizeof(addr), p, len)) {
				fd = net_listen_tcp(addr, l->port, 1024);
				if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) &&
				    strcmp(addr, "::") == 0) {
					/* No IPv6 on this host: "::" in the default is optional. */
				} else if (fd < 0) {
					fatal("service(%s): listen(%s, %u) failed: %m", svc->name,
					      addr, l->port);
				} else if (svc->listen_count == N_ELEMENTS(svc->listen_fds)) {
					fatal("service(%s): too many listeners", svc->name);
				} else {
					svc->listen_ssl[svc->listen_count] = l->ssl;
					svc->listen_fds[svc->listen_count++] = fd;
				}
			}
			p += len;
			while (*p == ',' || *p == ' ' || *p == '\t')
				p++;
		}
	}
}

/* The identity pre-started mail processes run as (mail_uid/mail_gid). */
static void service_resolve_prestart(struct service *svc)
{
	const struct roost_settings *set = master.set;
	struct passwd *pw;
	struct group *gr;

	svc->prestart = false;
	if (svc->set->process_min_avail == 0 || set->mail_uid[0] == '\0')
		return;
	if (!master.is_root) {
		svc->prestart_uid = geteuid();
		svc->prestart_gid = getegid();
		svc->prestart = true;
		return;
	}
	pw = getpwnam(set->mail_uid);
	if (pw == NULL)
		fatal("mail_uid: user %s does not exist: create it with: %s", set->mail_uid,
		      useradd_hint(set->mail_uid));
	svc->prestart_uid = pw->pw_uid;
	svc->prestart_gid = pw->pw_gid;
	if (set->mail_gid[0] != '\0') {
		gr = getgrnam(set->mail_gid);
		if (gr == NULL)
			fatal("mail_gid: group %s does not exist", set->mail_gid);
		svc->prestart_gid = gr->gr_gid;
	}
	svc->prestart = true;
}

/* Reads the TLS files as root, once per configuration, for login processes. */
static void services_read_tls(void)
{
	const struct roost_settings *set = master.set;
	const struct {
		const char *name;
		const char *value;
		struct buf *out;
	} files[] = {
		{"ssl_cert", set->ssl_cert, &master.tls_cert},
		{"ssl_key", set->ssl_key, &master.tls_key},
		{"ssl_dh", set->ssl_dh, &master.tls_dh},
	};

	bool have_login = false;

	for (unsigned int i = 0; i < master.service_count; i++)
		have_login = have_login || master.services[i].kind == SERVICE_LOGIN;
	for (size_t i = 0; i < N_ELEMENTS(files); i++) {
		const char *error;

		buf_free_secret(files[i].out);
		buf_init(files[i].out, 1024 * 1024);
		if (!have_login || strcmp(set->ssl, "no") == 0 || files[i].value[0] == '\0')
			continue;
		if (!settings_read_file_value(files[i].value, buf_max(files[i].out), files[i].out,
					      &error))
			fatal("%s: Can't read %s: %s", files[i].name, files[i].value, error);
	}
	if (have_login && strcmp(set->ssl, "no") != 0 &&
	    (buf_len(&master.tls_cert) == 0 || buf_len(&master.tls_key) == 0))
		fatal("ssl = %s, but ssl_cert and ssl_key are not both set (use ssl = no to "
		      "disable TLS)",
		      set->ssl);
}

/* base_dir/auth-userdb, for roost-lda; bound by master, served by auth. */
static void services_listen_userdb(const struct service *auth)
{
	const struct service_settings *set = auth->set;
	mode_t mode = 0660;
	uid_t uid = auth->uid;
	gid_t gid = auth->gid;

	if (!str_format(master.userdb_path, sizeof(master.userdb_path), "%s/%s",
			master.set->base_dir, AUTH_USERDB_SOCKET))
		fatal("base_dir is too long");
	if (master.set->mail_gid[0] != '\0' && master.is_root) {
		struct group *gr = getgrnam(master.set->mail_gid);

		if (gr != NULL)
			gid = gr->gr_gid;
	}
	for (unsigned int i = 0; i < set->unix_listener_count; i++) {
		const struct unix_listener_settings *l = &set->unix_listeners[i];

		if (strcmp(l->path, AUTH_USERDB_SOCKET) != 0)
			continue;
		mode = (mode_t)strtoul(l->mode, NULL, 8);
		if (master.is_root && l->user[0] != '\0') {
			struct passwd *pw = getpwnam(l->user);

			if (pw == NULL)
				fatal("unix_listener %s: user %s does not exist", l->path, l->user);
			uid = pw->pw_uid;
		}
		if (master.is_root && l->group[0] != '\0') {
			struct group *gr = getgrnam(l->group);

			if (gr == NULL)
				fatal("unix_listener %s: group %s does not exist", l->path,
				      l->group);
			gid = gr->gr_gid;
		}
	}
	master.userdb_fd = net_listen_unix(master.userdb_path, 128, SOCK_SEQPACKET);
	if (master.userdb_fd < 0)
		fatal("Can't create %s: %m", master.userdb_path);
	if ((master.is_root && chown(master.userdb_path, uid, gid) < 0) ||
	    chmod(master.userdb_path, mode) < 0)
		fatal("Can't set the owner and mode of %s: %m", master.userdb_path);
}

void services_init(void)
{
	master.userdb_fd = -1;
	spawn_prepare();
	master.services = i_calloc(N_ELEMENTS(service_kinds), sizeof(*master.services));
	for (size_t i = 0; i < N_ELEMENTS(service_kinds); i++) {
		const struct service_kind_info *k = &service_kinds[i];
		struct service *svc;
		char path[1200];

		if (k->protocol != NULL && !master_protocol_enabled(k->protocol))
			continue;
		if (!str_format(path, sizeof(path), "%s/%s", master.libexec_dir, k->binary))
			fatal("libexec path too long");
		if (access(path, X_OK) < 0) {
			log_warning("service(%s): %s is not installed, not starting it", k->name,
				    path);
			continue;
		}
		svc = &master.services[master.service_count++];
		svc->name = k->name;
		svc->kind = k->kind;
		svc->binary = i_strdup(path);
		svc->argv[0] = strrchr(svc->binary, '/') + 1;
		svc->argv[1] = NULL;
		svc->set = settings_service(master.set, k->name);
		if (svc->set == NULL)
			panic("no settings for built-in service %s", k->name);
		service_resolve_user(svc);
		service_prepare_chroot(svc);
		if (svc->kind == SERVICE_LOGIN)
			service_listen(svc);
		else if (svc->kind == SERVICE_MAIL)
			service_resolve_prestart(svc);
		else if (svc->kind == SERVICE_AUTH)
			services_listen_userdb(svc);
	}
	services_read_tls();
	services_settings_changed();
}

void services_settings_changed(void)
{
	buf_free(&master.settings_text);
	buf_init(&master.settings_text, 16 * 1024 * 1024);
	master_settings_text(master.set, &master.settings_text);
	/* Services keep pointers into the settings: refresh them. */
	for (unsigned int i = 0; i < master.service_count; i++) {
		struct service *svc = &master.services[i];

		svc->set = settings_service(master.set, svc->name);
		if (svc->kind == SERVICE_MAIL)
			service_resolve_prestart(svc);
	}
}

void services_tls_reload(void)
{
	services_read_tls();
}

/*
 * Spawning: clone(CLONE_VM | CLONE_VFORK), as posix_spawn() does. The
 * child borrows master's memory until its execve(), so it copies no page
 * tables and master writes no copy-on-write pages afterwards; in exchange
 * the child may only make system calls on what was prepared for it here:
 * no allocation, no locks, no logging (and no sanitizer bookkeeping).
 */
#define SPAWN_MAX_FDS 16

struct spawn_args {
	const char *path;
	char *const *argv;
	char *const *envp;
	/* Placed at 2 (the log pipe), 3 (IPC_MASTER_FD), then 4, 5, ... */
	int src[SPAWN_MAX_FDS];
	unsigned int nsrc;
	int devnull;
	int exec_errno; /* written by the child when execve() fails */
};

/* The reduced environment every child gets, built once. */
static char *spawn_envp[8];
static int spawn_devnull = -1;
/* The child's stack: it runs while master waits, one child at a time. */
static uint8_t spawn_stack[32 * 1024] __attribute__((aligned(64)));

static void spawn_prepare(void)
{
	static const char *const passed_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
						 "TZ"};
	size_t envc = 0;

	if (spawn_devnull < 0) {
		spawn_devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (spawn_devnull < 0)
			fatal("open(/dev/null) failed: %m");
	}
	for (size_t i = 0; spawn_envp[i] != NULL; i++)
		I_FREE(spawn_envp[i]);
	for (size_t i = 0; i < N_ELEMENTS(passed_env); i++) {
		const char *v = getenv(passed_env[i]);
		struct buf entry = BUF_INIT(64 * 1024);

		if (v == NULL || !buf_printf(&entry, "%s=%s", passed_env[i], v)) {
			buf_free(&entry);
			continue;
		}
		spawn_envp[envc++] = i_strdup(buf_cstr(&entry));
		buf_free(&entry);
	}
	spawn_envp[envc] = NULL;
}

/*
 * The child side of process_spawn(). Descriptors are first moved above the
 * target range, then placed; everything else master has open is closed.
 * Signals: master's signalfd set is unblocked and SIGPIPE (ignored in
 * master) is set back to default, as execve() keeps both.
 */
__attribute__((no_sanitize_address)) static int spawn_child(void *ctx)
{
	struct spawn_args *a = ctx;
	struct sigaction dfl;
	sigset_t empty;
	int moved[SPAWN_MAX_FDS];

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &dfl, NULL);
	for (unsigned int i = 0; i < a->nsrc; i++) {
		moved[i] = fcntl(a->src[i], F_DUPFD_CLOEXEC, 64);
		if (moved[i] < 0)
			goto fail;
	}
	if (dup2(a->devnull, STDIN_FILENO) < 0 || dup2(a->devnull, STDOUT_FILENO) < 0)
		goto fail;
	for (unsigned int i = 0; i < a->nsrc; i++) {
		int target = i == 0 ? STDERR_FILENO : (int)(IPC_MASTER_FD + i - 1);

		if (dup2(moved[i], target) < 0)
			goto fail;
	}
	/* Nothing else master inherited or opened reaches the child. */
	(void)close_range(STDERR_FILENO + a->nsrc, ~0U, 0);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
	execve(a->path, a->argv, a->envp);
fail:
	a->exec_errno = errno != 0 ? errno : EINVAL;
	_exit(EXIT_EXEC_FAILED);
}

/*
 * Starts the service binary with the log pipe and channel (and the
 * service's extra descriptors) in place. Returns the pid, or -1 with a
 * logged error; when execve() itself failed the child exits with
 * EXIT_EXEC_FAILED and is reaped (and throttled) as any failed start.
 */
static pid_t spawn_service(struct service *svc, int log_fd, int chan_fd)
{
	struct spawn_args a = {
		.path = svc->binary,
		.argv = svc->argv,
		.envp = spawn_envp,
		.devnull = spawn_devnull,
	};
	pid_t pid;

	a.src[a.nsrc++] = log_fd;
	a.src[a.nsrc++] = chan_fd;
	if (svc->kind == SERVICE_AUTH)
		a.src[a.nsrc++] = master.userdb_fd;
	for (unsigned int i = 0; svc->kind == SERVICE_LOGIN && i < svc->listen_count; i++)
		a.src[a.nsrc++] = svc->listen_fds[i];
	pid = clone(spawn_child, spawn_stack + sizeof(spawn_stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (pid < 0) {
		log_error("service(%s): clone() failed: %m", svc->name);
		return -1;
	}
	if (a.exec_errno != 0)
		log_error("service(%s): execve(%s) failed: %s", svc->name, svc->binary,
			  strerror(a.exec_errno));
	return pid;
}

static bool process_message(void *ctx, struct ipc_message *msg);
static void process_channel_closed(void *ctx, const char *reason);

static void send_tls_item(struct process *proc, const char *name, const uint8_t *data, size_t len)
{
	struct login_tls_data *msg = i_malloc(sizeof(*msg));

	(void)str_copy(msg->name, sizeof(msg->name), name);
	while (len > 0) {
		size_t n = len > sizeof(msg->data) ? sizeof(msg->data) : len;

		memcpy(msg->data, data, n);
		msg->data_len = n;
		(void)ipc_conn_send_msg(proc->conn, LOGIN_MSG(LOGIN_TLS_DATA), msg, NULL, 0);
		data += n;
		len -= n;
	}
	explicit_bzero(msg, sizeof(*msg));
	free(msg);
}

/* Certificate and key go to login processes only, never into settings. */
static void process_send_tls(struct process *proc)
{
	struct login_tls_end end = {0};
	const char *password = master.set->ssl_key_password;

	send_tls_item(proc, "ssl_cert", buf_data(&master.tls_cert), buf_len(&master.tls_cert));
	send_tls_item(proc, "ssl_key", buf_data(&master.tls_key), buf_len(&master.tls_key));
	send_tls_item(proc, "ssl_dh", buf_data(&master.tls_dh), buf_len(&master.tls_dh));
	send_tls_item(proc, "ssl_key_password", (const uint8_t *)password, strlen(password));
	(void)ipc_conn_send_msg(proc->conn, LOGIN_MSG(LOGIN_TLS_END), &end, NULL, 0);
}

static void process_send_handover(struct process *proc)
{
	struct service *svc = proc->service;
	struct child_settings_chunk *chunk = i_malloc(sizeof(*chunk));
	struct child_init init;
	const uint8_t *text = buf_data(&master.settings_text);
	size_t left = buf_len(&master.settings_text);

	while (left > 0) {
		size_t n = left > sizeof(chunk->data) ? sizeof(chunk->data) : left;

		memcpy(chunk->data, text, n);
		chunk->data_len = n;
		(void)ipc_conn_send_msg(proc->conn, CHILD_MSG(CHILD_SETTINGS_CHUNK), chunk, NULL,
					0);
		text += n;
		left -= n;
	}
	free(chunk);

	memset(&init, 0, sizeof(init));
	(void)str_copy(init.service, sizeof(init.service), svc->name);
	init.flags = (master.is_root ? CHILD_INIT_CHANGE_USER : 0) |
		     (master.set->mail_debug || master.set->auth_debug ? CHILD_INIT_DEBUG : 0);
	init.uid = (uint32_t)proc->uid;
	init.gid = (uint32_t)proc->gid;
	(void)str_copy(init.chroot, sizeof(init.chroot), svc->chroot_dir);
	init.vsz_limit = svc->set->vsz_limit;
	init.client_limit = svc->set->client_limit;
	(void)str_copy(init.test_hook, sizeof(init.test_hook), svc->set->test_hook);
	(void)ipc_conn_send_msg(proc->conn, CHILD_MSG(CHILD_INIT), &init, NULL, 0);
	if (svc->kind == SERVICE_LOGIN)
		process_send_tls(proc);
}

static struct process *process_spawn(struct service *svc, uid_t uid, gid_t gid)
{
	int logpipe[2], chan[2];
	struct process *proc;
	pid_t pid;

	if (pipe2(logpipe, O_CLOEXEC) < 0) {
		log_error("service(%s): pipe() failed: %m", svc->name);
		return NULL;
	}
	if (ipc_socketpair(chan) < 0) {
		log_error("service(%s): socketpair() failed: %m", svc->name);
		close(logpipe[0]);
		close(logpipe[1]);
		return NULL;
	}
	pid = spawn_service(svc, logpipe[1], chan[1]);
	if (pid < 0) {
		close(logpipe[0]);
		close(logpipe[1]);
		close(chan[0]);
		close(chan[1]);
		return NULL;
	}
	close(logpipe[1]);
	close(chan[1]);
	(void)fcntl(chan[0], F_SETFL, O_NONBLOCK);
	proc = i_calloc(1, sizeof(*proc));
	proc->service = svc;
	proc->pid = pid;
	proc->uid = uid;
	proc->gid = gid;
	proc->started_ms = ioloop_now_ms();
	(void)str_copy(proc->log_prefix, sizeof(proc->log_prefix), svc->name);
	log_relay_start(proc, logpipe[0]);
	proc->conn = ipc_conn_create(chan[0], process_message, process_channel_closed, proc);
	process_send_handover(proc);
	proc->next = svc->processes;
	svc->processes = proc;
	svc->process_count++;
	svc->started++;
	switch (svc->kind) {
	case SERVICE_POLICY:
		policy_client_attach(proc);
		break;
	case SERVICE_AUTH:
		auth_client_attach(proc);
		break;
	case SERVICE_LOGIN:
		auth_client_connect_login(proc);
		break;
	case SERVICE_MAIL:
		svc->idle_count++;
		break;
	}
	return proc;
}

static void service_ensure(struct service *svc)
{
	unsigned int limit = svc->set->process_limit;

	while (!master.stopping && svc->throttle_to == NULL && svc->process_count < limit) {
		struct process *proc;

		if (svc->kind == SERVICE_MAIL) {
			/* Keep process_min_avail idle processes for the mail uid. */
			if (!svc->prestart || svc->idle_count >= svc->set->process_min_avail)
				break;
			proc = process_spawn(svc, svc->prestart_uid, svc->prestart_gid);
		} else {
			unsigned int wanted =
				svc->kind == SERVICE_LOGIN && svc->set->process_min_avail > 0
					? svc->set->process_min_avail
					: 1;
			if (svc->process_count >= wanted)
				break;
			proc = process_spawn(svc, svc->uid, svc->gid);
		}
		if (proc == NULL)
			break;
	}
}

/* A login process that is full asks for a sibling, up to process_limit. */
static void service_login_load(struct service *svc)
{
	unsigned int full = 0;

	for (struct process *p = svc->processes; p != NULL; p = p->next) {
		if (!p->stopping && p->clients >= svc->set->client_limit)
			full++;
	}
	if (full == svc->process_count && svc->process_count < svc->set->process_limit &&
	    !master.stopping && svc->throttle_to == NULL)
		(void)process_spawn(svc, svc->uid, svc->gid);
}

struct process *mail_process_get(struct service *svc, uid_t uid, gid_t gid)
{
	struct process *proc;

	for (proc = svc->processes; proc != NULL; proc = proc->next) {
		if (proc->session == NULL && !proc->stopping && proc->uid == uid &&
		    proc->gid == gid)
			return proc;
	}
	if (svc->process_count >= svc->set->process_limit) {
		log_warning("service(%s): process_limit (%u) reached, client connections are being "
			    "refused",
			    svc->name, svc->set->process_limit);
		return NULL;
	}
	return process_spawn(svc, uid, gid);
}

bool mail_process_assign(struct process *proc, struct master_session *session, int client_fd,
			 const struct mail_session *msg)
{
	struct service *svc = proc->service;

	if (!ipc_conn_send_msg(proc->conn, MAIL_MSG(MAIL_SESSION), msg, &client_fd, 1))
		return false;
	proc->session = session;
	svc->idle_count--;
	(void)str_format(proc->log_prefix, sizeof(proc->log_prefix), "%s(%s)", svc->name,
			 session->user);
	return true;
}

static void service_refill_now(void *ctx)
{
	struct service *svc = ctx;

	timeout_remove(&svc->refill_to);
	service_ensure(svc);
}

void service_refill_later(struct service *svc)
{
	if (svc->refill_to == NULL)
		svc->refill_to = timeout_add(0, service_refill_now, svc);
}

void services_start(void)
{
	for (unsigned int i = 0; i < master.service_count; i++)
		service_ensure(&master.services[i]);
}

static void throttle_end(void *ctx)
{
	struct service *svc = ctx;

	timeout_remove(&svc->throttle_to);
	service_ensure(svc);
}

static void service_throttle(struct service *svc)
{
	svc->throttle_secs = svc->throttle_secs == 0 ? THROTTLE_FIRST_SECS : svc->throttle_secs * 2;
	if (svc->throttle_secs > THROTTLE_MAX_SECS)
		svc->throttle_secs = THROTTLE_MAX_SECS;
	log_error("service(%s): command startup failed, throttling for %u secs", svc->name,
		  svc->throttle_secs);
	timeout_remove(&svc->throttle_to);
	svc->throttle_to = timeout_add(svc->throttle_secs * 1000, throttle_end, svc);
}

static bool process_message(void *ctx, struct ipc_message *msg)
{
	struct process *proc = ctx;
	union child_msg_any m;
	const char *error;
	const struct ipc_msg_def *def;

	if (msg->type < CHILD_MSG_FIRST || msg->type > CHILD_MSG_LAST) {
		switch (proc->service->kind) {
		case SERVICE_POLICY:
			return policy_client_input(proc, msg);
		case SERVICE_AUTH:
			return auth_client_input(proc, msg);
		case SERVICE_LOGIN:
			return handoff_input(proc, msg);
		case SERVICE_MAIL:
			break;
		}
		log_error("service(%s): child %d sent an unexpected message type %u",
			  proc->service->name, (int)proc->pid, msg->type);
		return false;
	}
	def = ipc_message_decode(&child_channel, msg, &m, sizeof(m), &error);
	if (def == NULL) {
		log_error("service(%s): child %d sent an invalid message: %s", proc->service->name,
			  (int)proc->pid, error);
		return false;
	}
	switch (def->type) {
	case CHILD_READY:
		if (proc->ready || m.ready.pid != (uint32_t)proc->pid) {
			log_error("service(%s): child %d sent a bogus READY", proc->service->name,
				  (int)proc->pid);
			return false;
		}
		proc->ready = true;
		proc->service->throttle_secs = 0;
		return true;
	case CHILD_STATUS:
		proc->clients = m.status.clients;
		if (proc->service->kind == SERVICE_LOGIN)
			service_login_load(proc->service);
		return true;
	default:
		log_error("service(%s): child %d sent %s, which only master may send",
			  proc->service->name, (int)proc->pid, def->name);
		return false;
	}
}

static void process_channel_closed(void *ctx, const char *reason)
{
	struct process *proc = ctx;

	/* A child that breaks the protocol is not trusted to go on. */
	if (strcmp(reason, "disconnected") != 0 && !proc->stopping) {
		log_error("service(%s): child %d: %s, killing it", proc->service->name,
			  (int)proc->pid, reason);
		(void)kill(proc->pid, SIGKILL);
	}
	ipc_conn_destroy(&proc->conn);
	if (proc->service->kind == SERVICE_POLICY)
		policy_client_detach(proc);
	else if (proc->service->kind == SERVICE_AUTH)
		auth_client_detach(proc);
}

void master_describe_exit(const struct service *svc, pid_t pid, int status, struct buf *out)
{
	(void)buf_printf(out, "service(%s): child %d ", svc->name, (int)pid);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		(void)buf_printf(out, "killed with signal %d", sig);
		if (sig == SIGSYS)
			(void)buf_printf(out,
					 " (sandbox violation: a system call outside the "
					 "seccomp allow-list of %s; see SECURITY.md)",
					 svc->name);
		if (WCOREDUMP(status))
			(void)buf_append_str(out, " (core dumped)");
		return;
	}
	int code = WEXITSTATUS(status);
	(void)buf_printf(out, "returned error %d", code);
	switch (code) {
	case EXIT_OUT_OF_MEMORY: {
		char size[32];

		settings_format_size(svc->set->vsz_limit, size, sizeof(size));
		(void)buf_printf(out,
				 " (Out of memory (service %s { vsz_limit=%s }, you may need to "
				 "increase it))",
				 svc->name, size);
		break;
	}
	case EXIT_EXEC_FAILED:
		(void)buf_append_str(out, " (exec() failed)");
		break;
	case EXIT_FATAL:
		(void)buf_append_str(out, " (Fatal failure)");
		break;
	case EXIT_TEMPFAIL:
		(void)buf_append_str(out, " (Temporary failure)");
		break;
	default:
		break;
	}
}

static void process_free(struct process *proc)
{
	ipc_conn_destroy(&proc->conn);
	log_relay_finish(proc);
	free(proc);
}

static void process_remove(struct process *proc)
{
	struct service *svc = proc->service;

	for (struct process **pp = &svc->processes; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == proc) {
			*pp = proc->next;
			break;
		}
	}
	svc->process_count--;
	switch (svc->kind) {
	case SERVICE_POLICY:
		policy_client_detach(proc);
		break;
	case SERVICE_AUTH:
		auth_client_detach(proc);
		break;
	case SERVICE_LOGIN:
		handoff_login_gone(proc);
		break;
	case SERVICE_MAIL:
		if (proc->session != NULL) {
			master_session_remove(proc->session);
			proc->session = NULL;
		} else {
			svc->idle_count--;
		}
		break;
	}
	process_free(proc);
}

static void process_exited(struct process *proc, int status)
{
	struct service *svc = proc->service;
	bool expected = proc->stopping && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
					   (WIFEXITED(status) && WEXITSTATUS(status) == 0));
	bool failed = !expected && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* A mail process ending in its session is not a start-up failure. */
	bool startup_failed = failed && !proc->ready && proc->session == NULL;

	/* The child's own last words come before master's verdict. */
	log_relay_finish(proc);
	if (failed) {
		struct buf line = BUF_INIT(1024);

		master_describe_exit(svc, proc->pid, status, &line);
		if (proc->session != NULL) {
			/* As Dovecot: in the user's log context, said by master. */
			char prefix[sizeof(proc->log_prefix) + 4];
			struct buf text = BUF_INIT(2048);

			(void)str_format(prefix, sizeof(prefix), "%s: ", proc->log_prefix);
			(void)buf_printf(&text, "master: %s", buf_cstr(&line));
			log_write_prefixed(LOG_LEVEL_FATAL, prefix, buf_cstr(&text),
					   buf_len(&text));
			buf_free(&text);
		} else {
			log_error("%s", buf_cstr(&line));
		}
		buf_free(&line);
		svc->crashes++;
	} else if (!expected && svc->kind != SERVICE_MAIL && !master.stopping) {
		log_error("service(%s): child %d exited unexpectedly", svc->name, (int)proc->pid);
	}
	process_remove(proc);
	if (master.stopping)
		return;
	if (startup_failed)
		service_throttle(svc);
	service_ensure(svc);
}

void services_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct process *proc = process_lookup(pid);

		if (proc == NULL) {
			log_warning("Reaped unknown child %d", (int)pid);
			continue;
		}
		process_exited(proc, status);
	}
}

static void service_signal_all(struct service *svc, int sig)
{
	for (struct process *p = svc->processes; p != NULL; p = p->next) {
		p->stopping = true;
		(void)kill(p->pid, sig);
	}
}

void services_reload(void)
{
	for (unsigned int i = 0; i < master.service_count; i++) {
		struct service *svc = &master.services[i];

		/* Long-running helpers restart with the new settings. */
		if (svc->kind == SERVICE_POLICY || svc->kind == SERVICE_AUTH ||
		    svc->kind == SERVICE_LOGIN)
			service_signal_all(svc, SIGTERM);
	}
}

void services_stop_all(bool wait)
{
	uint64_t deadline;
	bool killed = false;

	for (unsigned int i = 0; i < master.service_count; i++) {
		struct service *svc = &master.services[i];

		timeout_remove(&svc->throttle_to);
		timeout_remove(&svc->refill_to);
		if (svc->kind == SERVICE_MAIL && !master.set->shutdown_clients)
			continue;
		service_signal_all(svc, SIGTERM);
	}
	if (!wait)
		return;
	deadline = ioloop_refresh_now() + STOP_GRACE_MSECS;
	while (services_process_count() > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		struct process *proc;

		if (pid > 0) {
			proc = process_lookup(pid);
			if (proc != NULL)
				process_remove(proc);
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		if (!killed && ioloop_refresh_now() >= deadline) {
			for (unsigned int i = 0; i < master.service_count; i++)
				service_signal_all(&master.services[i], SIGKILL);
			killed = true;
		}
		usleep(10000);
	}
	for (unsigned int i = 0; i < master.service_count; i++) {
		struct service *svc = &master.services[i];

		/* Mail processes left running (shutdown_clients = no) are forgotten. */
		while (svc->processes != NULL)
			process_remove(svc->processes);
	}
}
