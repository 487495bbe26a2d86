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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "ipc/msg-child.h"
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

void services_init(void)
{
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
		svc->set = settings_service(master.set, k->name);
		if (svc->set == NULL)
			panic("no settings for built-in service %s", k->name);
		service_resolve_user(svc);
		service_prepare_chroot(svc);
		if (svc->kind == SERVICE_LOGIN)
			service_listen(svc);
	}
	services_settings_changed();
}

void services_settings_changed(void)
{
	buf_free(&master.settings_text);
	buf_init(&master.settings_text, 16 * 1024 * 1024);
	settings_write(&master.settings_text, master.set, false, false);
	/* Services keep pointers into the settings: refresh them. */
	for (unsigned int i = 0; i < master.service_count; i++)
		master.services[i].set = settings_service(master.set, master.services[i].name);
}

static void child_exec(struct service *svc, int log_fd, int chan_fd) ATTR_NORETURN;
static void child_exec(struct service *svc, int log_fd, int chan_fd)
{
	static const char *const passed_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
						 "TZ"};
	char *envp[N_ELEMENTS(passed_env) + 1];
	size_t envc = 0;
	int src[3 + N_ELEMENTS(svc->listen_fds)];
	unsigned int nsrc = 0;
	int devnull;
	const char *base = strrchr(svc->binary, '/');
	char *argv[] = {(char *)(base != NULL ? base + 1 : svc->binary), NULL};

	ioloop_child_reset();
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* Move every source above the target range first, then place them. */
	src[nsrc++] = fcntl(log_fd, F_DUPFD_CLOEXEC, 64);
	src[nsrc++] = fcntl(chan_fd, F_DUPFD_CLOEXEC, 64);
	for (unsigned int i = 0; i < svc->listen_count; i++)
		src[nsrc++] = fcntl(svc->listen_fds[i], F_DUPFD_CLOEXEC, 64);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		_exit(EXIT_EXEC_FAILED);
	for (unsigned int i = 0; i < nsrc; i++) {
		int target = i == 0 ? STDERR_FILENO : (int)(IPC_MASTER_FD + i - 1);

		if (src[i] < 0 || dup2(src[i], target) < 0)
			_exit(EXIT_EXEC_FAILED);
	}
	for (size_t i = 0; i < N_ELEMENTS(passed_env); i++) {
		const char *v = getenv(passed_env[i]);
		char *entry;

		if (v == NULL)
			continue;
		entry = i_malloc(strlen(passed_env[i]) + strlen(v) + 2);
		memcpy(entry, passed_env[i], strlen(passed_env[i]));
		entry[strlen(passed_env[i])] = '=';
		memcpy(entry + strlen(passed_env[i]) + 1, v, strlen(v) + 1);
		envp[envc++] = entry;
	}
	envp[envc] = NULL;
	execve(svc->binary, argv, envp);
	log_init_child();
	log_fatal_code(EXIT_EXEC_FAILED, "execve(%s) failed: %m", svc->binary);
}

static bool process_message(void *ctx, struct ipc_message *msg);
static void process_channel_closed(void *ctx, const char *reason);

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
	init.uid = (uint32_t)svc->uid;
	init.gid = (uint32_t)svc->gid;
	(void)str_copy(init.chroot, sizeof(init.chroot), svc->chroot_dir);
	init.vsz_limit = svc->set->vsz_limit;
	init.client_limit = svc->set->client_limit;
	(void)str_copy(init.test_hook, sizeof(init.test_hook), svc->set->test_hook);
	(void)ipc_conn_send_msg(proc->conn, CHILD_MSG(CHILD_INIT), &init, NULL, 0);
}

static struct process *process_spawn(struct service *svc)
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
	pid = fork();
	if (pid < 0) {
		log_error("service(%s): fork() failed: %m", svc->name);
		close(logpipe[0]);
		close(logpipe[1]);
		close(chan[0]);
		close(chan[1]);
		return NULL;
	}
	if (pid == 0)
		child_exec(svc, logpipe[1], chan[1]);

	close(logpipe[1]);
	close(chan[1]);
	(void)fcntl(chan[0], F_SETFL, O_NONBLOCK);
	proc = i_calloc(1, sizeof(*proc));
	proc->service = svc;
	proc->pid = pid;
	proc->started_ms = ioloop_now_ms();
	(void)str_copy(proc->log_prefix, sizeof(proc->log_prefix), svc->name);
	log_relay_start(proc, logpipe[0]);
	proc->conn = ipc_conn_create(chan[0], process_message, process_channel_closed, proc);
	process_send_handover(proc);
	proc->next = svc->processes;
	svc->processes = proc;
	svc->process_count++;
	svc->started++;
	if (svc->kind == SERVICE_POLICY)
		policy_client_attach(proc);
	return proc;
}

static unsigned int service_wanted(const struct service *svc)
{
	switch (svc->kind) {
	case SERVICE_POLICY:
	case SERVICE_AUTH:
		return 1;
	case SERVICE_LOGIN:
		return svc->set->process_min_avail > 0 ? svc->set->process_min_avail : 1;
	case SERVICE_MAIL:
		return svc->set->process_min_avail;
	}
	return 0;
}

static void service_ensure(struct service *svc)
{
	unsigned int wanted = service_wanted(svc);

	if (wanted > svc->set->process_limit)
		wanted = svc->set->process_limit;
	while (!master.stopping && svc->throttle_to == NULL && svc->process_count < wanted) {
		if (process_spawn(svc) == NULL)
			break;
	}
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
		if (proc->service->kind == SERVICE_POLICY)
			return policy_client_input(proc, msg);
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
	if (svc->kind == SERVICE_POLICY)
		policy_client_detach(proc);
	process_free(proc);
}

static void process_exited(struct process *proc, int status)
{
	struct service *svc = proc->service;
	bool expected = proc->stopping && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
					   (WIFEXITED(status) && WEXITSTATUS(status) == 0));
	bool failed = !expected && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	bool startup_failed = failed && !proc->ready;

	/* The child's own last words come before master's verdict. */
	log_relay_finish(proc);
	if (failed) {
		struct buf line = BUF_INIT(1024);

		master_describe_exit(svc, proc->pid, status, &line);
		log_error("%s", buf_cstr(&line));
		buf_free(&line);
		svc->crashes++;
	} else if (!expected && (svc->kind == SERVICE_POLICY || svc->kind == SERVICE_AUTH) &&
		   !master.stopping) {
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
