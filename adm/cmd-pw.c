/*
 * roostadm pw [-l] [-s SCHEME] [-r ROUNDS] [-p PASSWORD] [-t HASH]: makes a
 * password hash for a passwd-file, as doveadm pw does (default
 * SHA512-CRYPT), lists the schemes, or checks a hash (-t). Without -p the
 * password is read twice from the terminal with echo off.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "adm.h"
#include "log.h"
#include "password.h"

#define PW_MAX 1024

/* Reads one line from the terminal without echo (or from stdin). */
static bool read_secret(const char *prompt, char *out, size_t size)
{
	struct termios old, noecho;
	bool tty = isatty(STDIN_FILENO) != 0;
	size_t len;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		} else {
			tty = false;
		}
	}
	if (fgets(out, (int)size, stdin) == NULL)
		out[0] = '\0';
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	return len > 0;
}

int cmd_pw(struct adm_context *ctx, int argc, char **argv)
{
	const char *scheme = "SHA512-CRYPT", *password = NULL, *test_hash = NULL, *error;
	char typed[PW_MAX], again[PW_MAX];
	struct buf out = BUF_INIT(4096);
	unsigned int rounds = 0;
	int c;

	(void)ctx;
	optind = 1;
	while ((c = getopt(argc, argv, "ls:r:p:t:")) != -1) {
		switch (c) {
		case 'l':
			for (const char *const *n = password_scheme_names(); *n != NULL; n++)
				printf("%s%s", n == password_scheme_names() ? "" : " ", *n);
			printf("\n");
			return ADM_EXIT_OK;
		case 's':
			scheme = optarg;
			break;
		case 'r':
			rounds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			password = optarg;
			break;
		case 't':
			test_hash = optarg;
			break;
		default:
			return ADM_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return ADM_EXIT_USAGE;
	if (password == NULL) {
		if (!read_secret("Enter new password: ", typed, sizeof(typed))) {
			log_error("Empty password");
			return 1;
		}
		if (test_hash == NULL && isatty(STDIN_FILENO) &&
		    (!read_secret("Retype new password: ", again, sizeof(again)) ||
		     strcmp(typed, again) != 0)) {
			log_error("Passwords don't match!");
			return 1;
		}
		password = typed;
	}
	if (test_hash != NULL) {
		enum password_result r = password_verify(test_hash, scheme, password, &error);

		if (r == PASSWORD_OK) {
			printf("%s (verified)\n", test_hash);
			return ADM_EXIT_OK;
		}
		log_error("%s", r == PASSWORD_MISMATCH ? "Password mismatch"
				: error != NULL	       ? error
						       : "Verification failed");
		return 1;
	}
	if (!password_generate(scheme, password, rounds, &out, &error)) {
		log_error("%s", error);
		return 1;
	}
	printf("%s\n", buf_cstr(&out));
	explicit_bzero(typed, sizeof(typed));
	explicit_bzero(again, sizeof(again));
	buf_free(&out);
	return ADM_EXIT_OK;
}
