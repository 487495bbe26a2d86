/*
 * Unit tests for the outgoing messages of a Sieve result (sieve-compose.c),
 * redirect loop and duplicate decisions, script location resolution and
 * the user log (sieve-files.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../lda/sieve/sieve-compose.h"
#include "../../lda/sieve/sieve-files.h"
#include "../../lda/sieve/sieve-message.h"
#include "../../lda/sieve/sieve-private.h"

static const char msg_text[] = "From: Carol <carol@example.net>\r\n"
			       "To: Bob <bob@example.org>\r\n"
			       "Subject: Grüße\r\n"
			       "Message-ID: <m1@example.net>\r\n"
			       "References: <m0@example.net>\r\n"
			       "\r\n"
			       "Hello\r\n";

struct ctx {
	struct sieve_settings *set;
	struct sieve_message *msg;
	struct sieve_exec *exec;
	struct sieve_result *result;
	struct sieve_envelope env;
};

static struct sieve_result *run(struct ctx *c, const char *msg, const char *script)
{
	struct sieve_exec_params p;
	struct sieve_error_list errs;
	struct sieve_script *s;

	memset(c, 0, sizeof(*c));
	c->set = sieve_settings_create();
	c->env.mail_from = "carol@example.net";
	c->env.rcpt_to = "bob@example.org";
	c->env.orig_rcpt_to = "bob@example.org";
	c->msg = sieve_message_create(msg, strlen(msg));
	sieve_error_list_init(&errs);
	s = sieve_compile(c->set, "t", script, strlen(script), &errs);
	assert_non_null(s);
	memset(&p, 0, sizeof(p));
	p.set = c->set;
	p.msg = &sieve_message_ops;
	p.msg_ctx = c->msg;
	p.envelope = &c->env;
	c->exec = sieve_exec_create(&p);
	(void)sieve_exec_run(c->exec, s, true);
	c->result = sieve_exec_result(c->exec);
	sieve_result_decide(c->result);
	sieve_script_free(&s);
	sieve_error_list_free(&errs);
	return c->result;
}

static void ctx_free(struct ctx *c)
{
	sieve_exec_free(&c->exec);
	sieve_message_free(&c->msg);
	sieve_settings_free(&c->set);
}

static void test_vacation_reply(void **state)
{
	struct ctx c;
	struct sieve_outgoing env;
	struct buf out;
	const char *s;

	(void)state;
	buf_init(&out, 1024 * 1024);
	run(&c, msg_text,
	    "require \"vacation\";\nvacation :from \"Bób <bob@example.org>\" \"Away\";\n");
	assert_true(sieve_compose_vacation(c.result, sieve_result_action(c.result, 0),
					   "mx.example.org", &out, &env));
	s = buf_cstr(&out);
	/* RFC 5230 section 5: reply from <> to the sender, marked auto-replied. */
	assert_string_equal(env.mail_from, "");
	assert_string_equal(env.rcpt_to, "carol@example.net");
	assert_non_null(strstr(s, "To: <carol@example.net>\r\n"));
	assert_non_null(strstr(s, "From: =?utf-8?b?QsOzYg==?= <bob@example.org>\r\n"));
	/* "Auto: Grüße", encoded because it is not ASCII. */
	assert_non_null(strstr(s, "Subject: =?utf-8?b?QXV0bzogR3LDvMOfZQ==?=\r\n"));
	assert_non_null(strstr(s, "In-Reply-To: <m1@example.net>\r\n"));
	assert_non_null(strstr(s, "References: <m0@example.net> <m1@example.net>\r\n"));
	assert_non_null(strstr(s, "Auto-Submitted: auto-replied (vacation)\r\n"));
	assert_non_null(strstr(s, "\r\n\r\nAway\r\n"));
	buf_free(&out);
	ctx_free(&c);
}

static void test_reject_bounce(void **state)
{
	struct ctx c;
	struct sieve_outgoing env;
	struct buf out;
	const char *s;

	(void)state;
	buf_init(&out, 1024 * 1024);
	run(&c, msg_text, "require \"reject\";\nreject \"No thanks\";\n");
	assert_true(sieve_compose_reject(c.result, sieve_result_action(c.result, 0), msg_text,
					 strlen(msg_text), "mx.example.org", &out, &env));
	s = buf_cstr(&out);
	assert_string_equal(env.mail_from, "");
	assert_string_equal(env.rcpt_to, "carol@example.net");
	assert_non_null(strstr(s, "report-type=disposition-notification"));
	assert_non_null(strstr(s, "Your message to <bob@example.org> was automatically "
				  "rejected:\r\nNo thanks\r\n"));
	assert_non_null(strstr(s, "Disposition: automatic-action/MDN-sent-automatically; "
				  "deleted\r\n"));
	assert_non_null(strstr(s, "Original-Message-ID: <m1@example.net>\r\n"));
	/* The original header is returned, not the body. */
	assert_non_null(strstr(s, "Subject: Grüße\r\n"));
	assert_null(strstr(s, "Hello"));
	buf_free(&out);
	ctx_free(&c);
}

static void test_redirect_and_loops(void **state)
{
	struct ctx c;
	struct sieve_outgoing env;
	struct buf out;

	(void)state;
	buf_init(&out, 1024 * 1024);
	run(&c, msg_text, "redirect \"dave@example.com\";\n");
	assert_true(sieve_compose_redirect(c.result, sieve_result_action(c.result, 0), msg_text,
					   strlen(msg_text), &out, &env));
	assert_string_equal(env.mail_from, "carol@example.net");
	assert_string_equal(env.rcpt_to, "dave@example.com");
	assert_int_equal(strncmp(buf_cstr(&out),
				 "X-Sieve-Redirected-From: bob@example.org\r\n"
				 "From: Carol",
				 53),
			 0);
	ctx_free(&c);
	/* The message comes back with our marker: a loop, not sent again. */
	run(&c, buf_cstr(&out), "redirect \"dave@example.com\";\n");
	assert_true(sieve_result_action(c.result, 0)->skip);
	assert_non_null(strstr(sieve_result_action(c.result, 0)->skip_reason, "mail loop"));
	ctx_free(&c);
	buf_free(&out);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_script_files(void **state)
{
	char dir[] = "/tmp/sieve-files-XXXXXX";
	char path[256];
	struct sieve_settings *set;
	struct sieve_script_files files;
	struct pool *pool = pool_create(1024 * 1024);
	const char *error;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/before.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	(void)snprintf(path, sizeof(path), "%s/before.d/20-b.sieve", dir);
	write_file(path, "keep;\n");
	(void)snprintf(path, sizeof(path), "%s/before.d/10-a.sieve", dir);
	write_file(path, "keep;\n");
	(void)snprintf(path, sizeof(path), "%s/before.d/ignored.txt", dir);
	write_file(path, "x");
	(void)snprintf(path, sizeof(path), "%s/default.sieve", dir);
	write_file(path, "keep;\n");
	set = sieve_settings_create();
	assert_int_equal(sieve_settings_set(set, "sieve_before",
					    p_strdup_printf(pool, "%s/before.d", dir), &error),
			 1);
	assert_int_equal(sieve_settings_set(set, "sieve_global_path",
					    p_strdup_printf(pool, "%s/default.sieve", dir), &error),
			 1);
	assert_int_equal(sieve_settings_set(set, "sieve_after2", "/nonexistent", &error), 1);
	/* No user script yet: the default one runs (sieve_default). */
	assert_int_equal(sieve_script_files_resolve(set, dir, pool, &files, &error), 0);
	assert_int_equal(files.count, 3);
	assert_non_null(strstr(files.paths[0], "10-a.sieve"));
	assert_non_null(strstr(files.paths[1], "20-b.sieve"));
	assert_int_equal(files.user_index, 2);
	assert_true(files.user_is_default);
	assert_non_null(strstr(files.user_log, "/.dovecot.sieve.log"));
	/* With ~/.dovecot.sieve the user's script replaces the default. */
	(void)snprintf(path, sizeof(path), "%s/.dovecot.sieve", dir);
	write_file(path, "keep;\n");
	assert_int_equal(sieve_script_files_resolve(set, dir, pool, &files, &error), 0);
	assert_int_equal(files.count, 3);
	assert_false(files.user_is_default);
	assert_string_equal(files.paths[2], path);
	/* The user log rotates past 10 kB. */
	(void)snprintf(path, sizeof(path), "%s/user.log", dir);
	assert_true(sieve_user_log_append(path, "s:1:1: error: one\n", &error));
	for (int i = 0; i < 400; i++)
		assert_true(sieve_user_log_append(path, "s:2:1: error: padding the log\n", &error));
	(void)snprintf(path, sizeof(path), "%s/user.log.0", dir);
	assert_int_equal(access(path, F_OK), 0);
	sieve_settings_free(&set);
	pool_destroy(&pool);
	(void)snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vacation_reply),
		cmocka_unit_test(test_reject_bounce),
		cmocka_unit_test(test_redirect_and_loops),
		cmocka_unit_test(test_script_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
