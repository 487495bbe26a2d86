/*
 * roost: the master process. Runs as root, parses nothing a remote peer
 * wrote: it reads the configuration and the limits file, binds the
 * listeners, spawns every service sandboxed, supervises them, and answers
 * roostadm on a root-only socket. Also `roost stop` and `roost reload`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/msg-admin.h"
#include "log.h"
#include "master.h"
#include "sandbox/sandbox.h"
#include "xalloc.h"

#define ROOST_VERSION "0.1"

struct master master = {.pidfile_fd = -1, .admin_fd = -1};

static void usage(void) ATTR_NORETURN;
static void usage(void)
{
	fprintf(stderr, "usage: roost [-F] [-c CONFIG] [--defaults FILE]\n"
			"       roost [-c CONFIG] stop|reload\n");
	exit(EX_USAGE);
}

static void log_settings_from(const struct roost_settings *set, struct log_settings *ls)
{
	ls->log_path = set->log_path;
	ls->info_log_path = set->info_log_path;
	ls->debug_log_path = set->debug_log_path;
	ls->syslog_ident = set->instance_name;
	ls->syslog_facility = set->syslog_facility;
	ls->log_timestamp = set->log_timestamp;
	ls->debug = set->mail_debug || set->auth_debug;
}

static struct roost_settings *read_config(const char *path)
{
	char *error;
	struct roost_settings *set = settings_read_file(path, &error);

	if (set == NULL) {
		log_printf(LOG_LEVEL_FATAL, "%s", error);
		free(error);
		exit(EXIT_FATAL);
	}
	return set;
}

static void log_config_warnings(const struct roost_settings *set)
{
	const char *p = set->warnings;

	while (*p != '\0') {
		size_t len = strcspn(p, "\n");

		log_warning("%.*s", (int)len, p);
		p += len + (p[len] == '\n' ? 1 : 0);
	}
}

/* Finds the roost-* helpers: next to a build-tree binary, else LIBEXECDIR. */
static void find_libexec_dir(void)
{
	char exe[1024], candidate[1100];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (str_format(candidate, sizeof(candidate), "%s/../libexec/roost", exe) &&
			    access(candidate, X_OK) == 0 &&
			    str_copy(master.libexec_dir, sizeof(master.libexec_dir), candidate))
				return;
		}
	}
	(void)str_copy(master.libexec_dir, sizeof(master.libexec_dir), LIBEXECDIR);
}

static void make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		fatal("mkdir(%s) failed: %m", path);
}

static void pidfile_lock(void)
{
	char buf[32];
	ssize_t n;

	if (!str_format(master.pidfile_path, sizeof(master.pidfile_path), "%s/master.pid",
			master.set->base_dir))
		fatal("base_dir is too long");
	master.pidfile_fd = open(master.pidfile_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (master.pidfile_fd < 0)
		fatal("open(%s) failed: %m", master.pidfile_path);
	if (flock(master.pidfile_fd, LOCK_EX | LOCK_NB) < 0) {
		n = read(master.pidfile_fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fatal("roost is already running with PID %s (read from %s)",
		      buf[0] != '\0' ? buf : "?", master.pidfile_path);
	}
}

static void pidfile_write(void)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(master.pidfile_fd, 0) < 0 ||
	    pwrite(master.pidfile_fd, buf, (size_t)len, 0) != len)
		fatal("Writing %s failed: %m", master.pidfile_path);
}

static void master_cleanup(void)
{
	admin_deinit();
	lda_stats_deinit();
	if (master.pidfile_fd >= 0) {
		(void)unlink(master.pidfile_path);
		close(master.pidfile_fd);
		master.pidfile_fd = -1;
	}
}

/*
 * Forks into the background. The parent waits until the child reports that
 * start-up succeeded, so `roost` fails visibly when the daemon cannot start.
 */
static int daemonize(void)
{
	int status_pipe[2];
	char status = 1;
	pid_t pid;

	if (pipe2(status_pipe, O_CLOEXEC) < 0)
		fatal("pipe() failed: %m");
	pid = fork();
	if (pid < 0)
		fatal("fork() failed: %m");
	if (pid > 0) {
		close(status_pipe[1]);
		if (read(status_pipe[0], &status, 1) != 1)
			status = 1;
		_exit(status == 0 ? 0 : EXIT_FATAL);
	}
	close(status_pipe[0]);
	if (setsid() < 0)
		fatal("setsid() failed: %m");
	return status_pipe[1];
}

static void daemonize_done(int status_fd)
{
	char ok = 0;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull >= 0) {
		(void)dup2(devnull, STDIN_FILENO);
		(void)dup2(devnull, STDOUT_FILENO);
		/* stderr stays only when it is where the log goes. */
		if (strcmp(master.set->log_path, "/dev/stderr") != 0)
			(void)dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
	(void)!write(status_fd, &ok, 1);
	close(status_fd);
}

static bool master_reload_config(char **error_r);

void master_request_stop(void)
{
	master.stopping = true;
	ioloop_stop();
}

bool master_reload(char **error_r)
{
	bool ret;

	master_notify("RELOADING=1");
	ret = master_reload_config(error_r);
	master_notify("READY=1");
	return ret;
}

static bool master_reload_config(char **error_r)
{
	char *error;
	struct roost_settings *set = settings_read_file(master.config_path, &error);
	struct log_settings ls;
	const char *log_error_text;

	if (set == NULL) {
		log_error("Reloading the configuration failed, keeping the running one: %s", error);
		*error_r = error;
		return false;
	}
	if (strcmp(set->base_dir, master.set->base_dir) != 0)
		log_warning("base_dir changed: restart roost for it to take effect");
	log_config_warnings(set);
	log_settings_from(set, &ls);
	if (!log_init_direct(&ls, &log_error_text))
		log_error("%s (keeping the old log target)", log_error_text);
	/* Children hold pointers into the new settings from now on. */
	settings_free(&master.set);
	master.set = set;
	services_settings_changed();
	services_tls_reload();
	log_info("Configuration reloaded");
	services_reload();
	return true;
}

void master_log_reopen(void)
{
	log_reopen();
	log_info("Log files reopened");
}

static void sig_stop(void *ctx, int signo)
{
	(void)ctx;
	log_info("Got signal %d (%s), stopping", signo, signo == SIGINT ? "SIGINT" : "SIGTERM");
	master_request_stop();
}

static void sig_reload(void *ctx, int signo)
{
	char *error;

	(void)ctx;
	(void)signo;
	log_info("SIGHUP received - reloading configuration");
	if (!master_reload(&error))
		free(error);
}

static void sig_reopen(void *ctx, int signo)
{
	(void)ctx;
	(void)signo;
	master_log_reopen();
}

static void sig_child(void *ctx, int signo)
{
	(void)ctx;
	(void)signo;
	services_reap();
}

/*
 * `roost stop` / `roost reload`: ask the running master over its socket.
 * A configuration that does not parse does not stop either request: master
 * stops anyway, or refuses the reload and says why, which is printed here
 * (exit 89). The local parse error is shown only when no master answers.
 */
static int run_command(const char *cmd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct admin_request req;
	struct ipc_message *msg;
	union admin_msg_any m;
	struct roost_settings *set;
	char base_dir[1024], *config_error = NULL;
	const char *error;
	uint16_t type = strcmp(cmd, "stop") == 0 ? ADMIN_STOP : ADMIN_RELOAD;
	int fd;

	set = settings_read_file(master.config_path, &config_error);
	if (set != NULL)
		(void)str_copy(base_dir, sizeof(base_dir), set->base_dir);
	else if (!settings_find_base_dir(master.config_path, base_dir, sizeof(base_dir)))
		fatal("%s", config_error);
	settings_free(&set);
	if (!str_format(sun.sun_path, sizeof(sun.sun_path), "%s/%s", base_dir, ADMIN_SOCKET_NAME))
		fatal("base_dir is too long");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (config_error != NULL)
			fatal("%s", config_error);
		fatal("roost is not running (connect(%s) failed: %m)", sun.sun_path);
	}
	free(config_error);
	msg = i_malloc(sizeof(*msg));
	memset(&req, 0, sizeof(req));
	if (ipc_send_msg(fd, ADMIN_MSG(type), &req, NULL, 0) < 0)
		fatal("Sending the request to master failed: %m");
	if (ipc_recv(fd, msg) <= 0 ||
	    ipc_message_decode(&admin_channel, msg, &m, sizeof(m), &error) == NULL ||
	    msg->type != ADMIN_DONE)
		fatal("No valid answer from master");
	if (m.done.status != 0)
		fatal("%s", m.done.message);
	if (type == ADMIN_STOP) {
		/* Wait until master has gone, so that a restart can follow at once. */
		while (ipc_recv(fd, msg) > 0)
			ipc_message_close_fds(msg);
	}
	close(fd);
	free(msg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"defaults", required_argument, NULL, 'd'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct log_settings ls;
	const char *error;
	int c, status_fd = -1;

	log_init_stderr("");
	master.config_path = SYSCONFDIR "/roost/roost.conf";
	master.defaults_path = "/etc/default/roost";
	while ((c = getopt_long(argc, argv, "+Fc:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			master.foreground = true;
			break;
		case 'c':
			master.config_path = optarg;
			break;
		case 'd':
			master.defaults_path = optarg;
			break;
		case 'V':
			printf("roost %s\n", ROOST_VERSION);
			return 0;
		default:
			usage();
		}
	}

	if (optind < argc) {
		if (optind + 1 != argc ||
		    (strcmp(argv[optind], "stop") != 0 && strcmp(argv[optind], "reload") != 0))
			usage();
		return run_command(argv[optind]);
	}

	/* 1. Configuration: refuse anything unknown or invalid, with file:line. */
	master.set = read_config(master.config_path);
	log_config_warnings(master.set);
	master.is_root = geteuid() == 0;
	if (!master.is_root)
		log_warning("roost is not running as root: no privilege separation by uid or "
			    "chroot is possible; every process still gets seccomp, Landlock and "
			    "rlimits. Use this for development only.");

	/* 2. Limits before anything is spawned. */
	limits_apply_defaults_file(master.defaults_path);

	/* 3. Runtime directories, single instance, helpers, users, listeners. */
	make_dir(master.set->base_dir, 0755);
	make_dir(master.set->state_dir, 0755);
	pidfile_lock();
	find_libexec_dir();
	services_init();
	limits_check_fds(master.set);

	/* 4. Logging to its final place, then into the background. */
	log_settings_from(master.set, &ls);
	if (!log_init_direct(&ls, &error))
		fatal("%s", error);
	log_set_prefix("master: ");
	if (!master.foreground)
		status_fd = daemonize();
	pidfile_write();
	log_set_fatal_callback(master_cleanup);

	/* 5. master's own deny-list, inherited by every child. */
	sandbox_master_restrict();

	/* 6. Serve. */
	ioloop_init();
	signal_add(SIGCHLD, sig_child, NULL);
	signal_add(SIGTERM, sig_stop, NULL);
	signal_add(SIGINT, sig_stop, NULL);
	signal_add(SIGHUP, sig_reload, NULL);
	signal_add(SIGUSR1, sig_reopen, NULL);
	admin_init();
	lda_stats_init();
	services_start();
	log_info("roost v%s starting up for %s", ROOST_VERSION, master.set->protocols);
	if (status_fd >= 0)
		daemonize_done(status_fd);
	master_notify("READY=1");
	ioloop_run();

	/* Only a stop request ends the loop. */
	if (!master.stopping)
		panic("event loop returned without a stop request");
	master_notify("STOPPING=1");
	services_stop_all(true);
	log_info("roost stopped");
	master_cleanup();
	return 0;
}
