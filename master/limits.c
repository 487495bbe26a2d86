/*
 * Descriptor limits in master: the defaults file administrators know as
 * /etc/default/dovecot (`ulimit -n 4096`, `ULIMIT="-n 4096"`, `NOFILE=4096`)
 * sets RLIMIT_NOFILE before anything is spawned, and a start-up check warns
 * when the configured processes and clients cannot fit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "master.h"

#define DEFAULTS_LINE_MAX 4096

/* Parses a decimal count; false on anything else. */
static bool parse_count(const char *s, uint64_t *r)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > 100000000)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	*r = n;
	return *s == '\0' || *s == '#';
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Removes one level of matching quotes. */
static char *unquote(char *s)
{
	size_t len = strlen(s);

	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		s[len - 1] = '\0';
		return s + 1;
	}
	return s;
}

/* Understands "-n N" (the argument of ulimit). */
static bool parse_ulimit_args(char *args, uint64_t *r)
{
	args = trim(unquote(trim(args)));
	if (strncmp(args, "-n", 2) != 0)
		return false;
	return parse_count(trim(args + 2), r);
}

void limits_apply_defaults_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[DEFAULTS_LINE_MAX];
	unsigned int lineno = 0;
	uint64_t nofile = 0;
	struct rlimit rl;

	if (f == NULL) {
		if (errno != ENOENT)
			fatal("Can't read %s: %m", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line);
		uint64_t n;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s = trim(s + 7);
		if (strncmp(s, "ulimit ", 7) == 0 && parse_ulimit_args(s + 7, &n))
			nofile = n;
		else if (strncmp(s, "ULIMIT=", 7) == 0 && parse_ulimit_args(s + 7, &n))
			nofile = n;
		else if (strncmp(s, "NOFILE=", 7) == 0 && parse_count(trim(unquote(s + 7)), &n))
			nofile = n;
		else
			log_warning("%s:%u: ignoring line (roost reads only `ulimit -n N`, "
				    "ULIMIT=\"-n N\" or NOFILE=N here)",
				    path, lineno);
	}
	fclose(f);
	if (nofile == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		fatal("getrlimit(RLIMIT_NOFILE) failed: %m");
	/* As the shell's `ulimit -n N`: soft and hard limit both. */
	rl.rlim_cur = nofile;
	rl.rlim_max = nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		/* Raising the hard limit needs CAP_SYS_RESOURCE; get as close as we may. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
		log_warning("%s: could not raise the open files limit to %llu (%m); it is %llu",
			    path, (unsigned long long)nofile, (unsigned long long)rl.rlim_cur);
	}
}

void limits_check_fds(const struct roost_settings *set)
{
	static const char *const mail[] = {"imap", "pop3"};
	static const char *const logins[] = {"imap-login", "pop3-login"};
	static const char *const protos[] = {"imap", "pop3"};
	struct rlimit rl;
	uint64_t master_need = 64, login_need = 0;
	const char *login_name = NULL;
	unsigned int login_clients = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	/* master keeps a log pipe and a channel for every child. */
	for (size_t i = 0; i < N_ELEMENTS(mail); i++) {
		const struct service_settings *s = settings_service(set, mail[i]);

		if (s != NULL && master_protocol_enabled(protos[i]))
			master_need += 2ULL * s->process_limit;
	}
	for (size_t i = 0; i < N_ELEMENTS(logins); i++) {
		const struct service_settings *s = settings_service(set, logins[i]);
		uint64_t per_process;

		if (s == NULL || !master_protocol_enabled(protos[i]))
			continue;
		master_need += 2ULL * s->process_limit;
		/* A login process holds the client and, with TLS, a proxied pair. */
		per_process = 3ULL * s->client_limit + 32;
		if (per_process > login_need) {
			login_need = per_process;
			login_name = logins[i];
			login_clients = s->client_limit;
		}
	}
	if (rl.rlim_cur < master_need) {
		log_warning(
			"fd limit (ulimit -n) is %llu, lower than the %llu master needs at full "
			"load (2 per process: login_max_processes_count = %u, service imap "
			"{ process_limit = %u }, service pop3 { process_limit = %u }): raise it "
			"in %s (ulimit -n %llu) or lower those limits",
			(unsigned long long)rl.rlim_cur, (unsigned long long)master_need,
			set->login_max_processes_count,
			settings_service(set, "imap")->process_limit,
			settings_service(set, "pop3")->process_limit, master.defaults_path,
			(unsigned long long)master_need * 2);
	}
	if (login_name != NULL && rl.rlim_cur < login_need) {
		log_warning("fd limit (ulimit -n) is %llu, lower than the %llu a %s process needs "
			    "for service %s { client_limit = %u }: raise it in %s (ulimit -n %llu) "
			    "or lower client_limit",
			    (unsigned long long)rl.rlim_cur, (unsigned long long)login_need,
			    login_name, login_name, login_clients, master.defaults_path,
			    (unsigned long long)login_need * 2);
	}
}
