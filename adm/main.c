/*
 * roostadm: administration of a running roost and of its configuration.
 * Runs as the administrator (root for commands that talk to master); every
 * command is one function in a cmd-*.c file, listed below.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm-sandbox.h"
#include "adm.h"
#include "child.h"
#include "log.h"

static const struct {
	const char *name;
	int (*run)(struct adm_context *ctx, int argc, char **argv);
	const char *usage;
} commands[] = {
	{"stop", cmd_stop, "stop"},
	{"reload", cmd_reload, "reload"},
	{"log", cmd_log, "log reopen"},
	{"who", cmd_who, "who [-1] [USER_MASK] [IP/BITS]"},
	{"kick", cmd_kick, "kick USER_MASK [IP/BITS]"},
	{"stats", cmd_stats, "stats [-f text|json]"},
	{"config", cmd_config, "config [-n] [SETTING...]"},
	{"pw", cmd_pw, "pw [-l] [-s SCHEME] [-r ROUNDS] [-p PASSWORD] [-t HASH]"},
	{"user", cmd_user, "user USER"},
	{"mount", cmd_mount, "mount add|remove PATH | mount list"},
	{"mailbox", cmd_mailbox,
	 "mailbox list -u USER [-s] [MASK...]\n"
	 "  mailbox status -u USER [-t] FIELDS MAILBOX|MASK...\n"
	 "  mailbox create -u USER [-s] MAILBOX..."},
	{"force-resync", cmd_force_resync, "force-resync -u USER MAILBOX|MASK..."},
	{"sieve", cmd_sieve,
	 "sieve check [-o NAME=VALUE]... [-x EXTENSIONS] FILE...\n"
	 "  sieve test [-o NAME=VALUE]... [-x EXTENSIONS] [-e] [-f SENDER] [-a RECIPIENT]\n"
	 "             [-r FINAL-RECIPIENT] [-s BEFORE-SCRIPT]... [-m MAILBOX] SCRIPT MESSAGE"},
};

static int usage(void)
{
	fprintf(stderr, "usage: roostadm [-c CONFIG] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < N_ELEMENTS(commands); i++)
		fprintf(stderr, "  %s\n", commands[i].usage);
	return ADM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct adm_context ctx = {.config_path = SYSCONFDIR "/roost/roost.conf"};
	int c;

	/* `roostadm --sandbox-profile`: the mail commands' confinement, for
	   SECURITY.md's tests. */
	child_describe_sandbox(argc, argv, &adm_mail_sandbox);
	log_init_stderr("");
	while ((c = getopt(argc, argv, "+c:h")) != -1) {
		if (c != 'c')
			return usage();
		ctx.config_path = optarg;
		ctx.config_given = true;
	}
	if (optind >= argc)
		return usage();
	for (size_t i = 0; i < N_ELEMENTS(commands); i++) {
		if (strcmp(commands[i].name, argv[optind]) == 0) {
			int ret = commands[i].run(&ctx, argc - optind, argv + optind);

			if (ret == ADM_EXIT_USAGE)
				fprintf(stderr, "usage: roostadm %s\n", commands[i].usage);
			settings_free(&ctx.set);
			free(ctx.config_error);
			return ret;
		}
	}
	fprintf(stderr, "roostadm: unknown command: %s\n", argv[optind]);
	return usage();
}
