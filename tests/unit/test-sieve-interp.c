/*
 * Unit tests for the Sieve interpreter and result (lda/sieve/sieve-interp.c,
 * sieve-result.c and the extensions): actions and the implicit keep of RFC
 * 5228, conflicts and limits, runtime errors falling back to keep, script
 * sequences, includes, duplicate and vacation decisions through callbacks,
 * header edits applied to the stored copy, and a failing message backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lda/sieve/sieve-message.h"
#include "../../lda/sieve/sieve-private.h"

static const char basic_msg[] = "Return-Path: <alice@example.com>\r\n"
				"From: Alice <alice@example.com>\r\n"
				"To: Bob <bob@example.org>\r\n"
				"Cc: carol@example.net\r\n"
				"Subject: Hello world\r\n"
				"Message-ID: <1@example.com>\r\n"
				"\r\n"
				"Hi Bob, this is the body.\r\n";

/* A fake environment: remembers duplicate ids and serves includes. */
struct fake_env {
	bool db_broken;
	char seen[8][256];
	unsigned int seen_count;
	unsigned int marks;
	const char *include_name;
	const char *include_text;
};

static int fake_dup_check(void *ctx, enum sieve_dup_kind kind, const void *id, size_t len)
{
	struct fake_env *fe = ctx;
	unsigned int i;

	(void)kind;
	if (fe->db_broken)
		return -1;
	for (i = 0; i < fe->seen_count; i++) {
		if (strlen(fe->seen[i]) == len && memcmp(fe->seen[i], id, len) == 0)
			return 1;
	}
	return 0;
}

static void fake_dup_mark(void *ctx, enum sieve_dup_kind kind, const void *id, size_t len,
			  time_t expires)
{
	struct fake_env *fe = ctx;

	(void)kind;
	(void)expires;
	fe->marks++;
	if (fe->seen_count < 8 && len < 256) {
		memcpy(fe->seen[fe->seen_count], id, len);
		fe->seen[fe->seen_count++][len] = '\0';
	}
}

static int fake_load(void *ctx, enum sieve_include_location loc, const char *name, struct buf *data,
		     const char **error_r)
{
	struct fake_env *fe = ctx;

	(void)loc;
	(void)error_r;
	if (fe->include_name == NULL || strcmp(name, fe->include_name) != 0)
		return 0;
	return buf_append_str(data, fe->include_text) ? 1 : -1;
}

static time_t fake_now(void *ctx)
{
	(void)ctx;
	return 1704103200; /* 2024-01-01 10:00:00 UTC */
}

static int fake_tz(void *ctx, time_t t)
{
	(void)ctx;
	(void)t;
	return 0;
}

static const struct sieve_env_ops fake_ops = {
	.duplicate_check = fake_dup_check,
	.duplicate_mark = fake_dup_mark,
	.script_load = fake_load,
	.now = fake_now,
	.tz_offset = fake_tz,
};

struct run {
	struct sieve_settings *set;
	struct sieve_message *msg;
	struct sieve_exec *exec;
	struct sieve_result *result;
	struct sieve_envelope env;
	struct buf out;
	struct fake_env fe;
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->set = sieve_settings_create();
	r->env.mail_from = "alice@example.com";
	r->env.rcpt_to = "bob@example.org";
	r->env.orig_rcpt_to = "bob@example.org";
	buf_init(&r->out, 1024 * 1024);
}

/* Compiles and runs scripts in sequence on msg; the last one is the user's. */
static const char *run_scripts(struct run *r, const char *msg, const char *const *scripts,
			       unsigned int count)
{
	struct sieve_exec_params p;
	struct sieve_script *compiled[8];
	unsigned int i;

	r->msg = sieve_message_create(msg, strlen(msg));
	memset(&p, 0, sizeof(p));
	p.set = r->set;
	p.msg = &sieve_message_ops;
	p.msg_ctx = r->msg;
	p.envelope = &r->env;
	p.env = &fake_ops;
	p.env_ctx = &r->fe;
	p.trace = &r->out;
	p.print_script_names = count > 1;
	for (i = 0; i < count; i++) {
		struct sieve_error_list errs;
		char name[16];

		(void)snprintf(name, sizeof(name), "s%u", i);
		sieve_error_list_init(&errs);
		compiled[i] = sieve_compile(r->set, name, scripts[i], strlen(scripts[i]), &errs);
		if (compiled[i] == NULL)
			fail_msg("compile failed: %s", buf_cstr(&errs.text));
		sieve_error_list_free(&errs);
	}
	r->exec = sieve_exec_create(&p);
	for (i = 0; i < count; i++) {
		if (!sieve_exec_run(r->exec, compiled[i], i + 1 == count))
			break;
	}
	r->result = sieve_exec_result(r->exec);
	for (i = 0; i < count; i++)
		sieve_script_free(&compiled[i]);
	return buf_cstr(&r->out);
}

static const char *run_one(struct run *r, const char *msg, const char *script)
{
	return run_scripts(r, msg, &script, 1);
}

static void run_free(struct run *r)
{
	sieve_exec_free(&r->exec);
	sieve_message_free(&r->msg);
	sieve_settings_free(&r->set);
	buf_free(&r->out);
}

static void test_implicit_keep(void **state)
{
	struct run r;
	const struct sieve_action *a;

	(void)state;
	run_init(&r);
	assert_string_equal(run_one(&r, basic_msg, "if false { discard; }\n"),
			    "\nPerformed actions:\n\n  (none)\n\nImplicit keep:\n\n"
			    " * store message in folder: INBOX\n\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_OK);
	assert_int_equal(sieve_result_count(r.result), 1);
	a = sieve_result_action(r.result, 0);
	assert_int_equal(a->type, SIEVE_ACTION_STORE);
	assert_true(a->keep);
	assert_string_equal(a->mailbox, "INBOX");
	assert_false(sieve_result_discarded(r.result));
	run_free(&r);
}

static void test_fileinto_cancels_keep(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_string_equal(
		run_one(&r, basic_msg,
			"require [\"fileinto\", \"copy\"];\n"
			"if header :contains \"subject\" \"hello\" { fileinto \"A\"; }\n"
			"fileinto :copy \"B\";\n"),
		"\nPerformed actions:\n\n"
		" * store message in folder: A\n"
		" * store message in folder: B\n"
		"        + preserve implicit keep\n"
		"\nImplicit keep:\n\n  (none)\n\n");
	assert_int_equal(sieve_result_count(r.result), 2);
	run_free(&r);
}

static void test_discard_and_stop(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	(void)run_one(&r, basic_msg, "discard;\nstop;\nkeep;\n");
	assert_int_equal(sieve_result_count(r.result), 1);
	assert_int_equal(sieve_result_action(r.result, 0)->type, SIEVE_ACTION_DISCARD);
	assert_true(sieve_result_discarded(r.result));
	run_free(&r);
}

static void test_duplicates_collapse(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	(void)run_one(&r, basic_msg,
		      "require \"fileinto\";\nfileinto \"A\";\nfileinto \"A\";\n"
		      "fileinto \"INBOX\";\nkeep;\nredirect \"x@example.net\";\n"
		      "redirect \"x@EXAMPLE.net\";\n");
	assert_int_equal(sieve_result_count(r.result), 3);
	assert_true(sieve_result_action(r.result, 1)->keep);
	run_free(&r);
}

static void test_runtime_error_keeps(void **state)
{
	struct run r;
	const struct sieve_action *a;

	(void)state;
	run_init(&r);
	/* RFC 5429: reject and keep conflict; the error means implicit keep. */
	assert_string_equal(run_one(&r, basic_msg,
				    "require [\"fileinto\", \"reject\"];\n"
				    "fileinto \"A\";\nreject \"no\";\n"),
			    "");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_FAILED);
	assert_non_null(strstr(sieve_result_errors(r.result),
			       "s0:3:1: error: reject/ereject action conflicts with other action"));
	assert_int_equal(sieve_result_count(r.result), 1);
	a = sieve_result_action(r.result, 0);
	assert_true(a->keep);
	assert_string_equal(a->mailbox, "INBOX");
	run_free(&r);
}

static void test_limits_at_runtime(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	r.set->max_redirects = 2;
	(void)run_one(&r, basic_msg,
		      "redirect \"a@example.net\";\nredirect \"b@example.net\";\n"
		      "redirect \"c@example.net\";\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_FAILED);
	assert_non_null(strstr(sieve_result_errors(r.result),
			       "number of redirect actions exceeds policy limit (3 > 2)"));
	run_free(&r);

	run_init(&r);
	r.set->max_actions = 2;
	(void)run_one(&r, basic_msg,
		      "require \"fileinto\";\nfileinto \"a\";\nfileinto \"b\";\nfileinto \"c\";\n");
	assert_non_null(strstr(sieve_result_errors(r.result),
			       "total number of actions exceeds policy limit (3 > 2)"));
	run_free(&r);
}

static void test_variables_and_matches(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	/* RFC 5229 section 3.2: the first star is as short as possible. */
	assert_non_null(strstr(run_one(&r, basic_msg,
				       "require [\"variables\", \"fileinto\"];\n"
				       "if header :matches \"from\" \"* <*@*>\" {\n"
				       "  set :lower \"user\" \"${2}\";\n"
				       "  fileinto \"${1}/${user}/${3}\";\n}\n"),
			       " * store message in folder: Alice/alice/example.com\n"));
	run_free(&r);
}

static void test_flags(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	assert_string_equal(run_one(&r, basic_msg,
				    "require \"imap4flags\";\n"
				    "addflag [\"\\\\Seen\", \"Work\", \"\\\\Flagged\", \"work\"];\n"
				    "removeflag \"\\\\seen\";\n"),
			    "\nPerformed actions:\n\n  (none)\n\nImplicit keep:\n\n"
			    " * store message in folder: INBOX\n"
			    "        + add IMAP flags: \\flagged Work\n\n");
	assert_int_equal(sieve_result_action(r.result, 0)->flags_count, 2);
	run_free(&r);
}

static void test_envelope_null_sender(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	r.env.mail_from = "";
	(void)run_one(&r, basic_msg,
		      "require [\"envelope\", \"fileinto\"];\n"
		      "if envelope :is \"from\" \"\" { fileinto \"Bounce\"; }\n"
		      "if envelope :localpart :matches \"from\" \"*\" { fileinto \"No\"; }\n");
	assert_int_equal(sieve_result_count(r.result), 1);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "Bounce");
	run_free(&r);
}

static void test_vacation_decisions(void **state)
{
	struct run r;
	const struct sieve_action *a;

	(void)state;
	run_init(&r);
	(void)run_one(&r, basic_msg, "require \"vacation\";\nvacation :days 2 \"away\";\n");
	sieve_result_decide(r.result);
	a = sieve_result_action(r.result, 0);
	assert_int_equal(a->type, SIEVE_ACTION_VACATION);
	assert_false(a->skip);
	assert_int_equal(a->vacation.seconds, 2 * 86400);
	assert_string_equal(a->vacation.reply_to, "alice@example.com");
	assert_string_equal(a->vacation.reply_subject, "Auto: Hello world");
	assert_string_equal(a->vacation.in_reply_to, "<1@example.com>");
	sieve_result_commit(r.result);
	assert_int_equal(r.fe.marks, 1);
	/* The same sender again within the period is not answered. */
	sieve_exec_free(&r.exec);
	sieve_message_free(&r.msg);
	buf_reset(&r.out);
	(void)run_one(&r, basic_msg, "require \"vacation\";\nvacation :days 2 \"away\";\n");
	sieve_result_decide(r.result);
	a = sieve_result_action(r.result, 0);
	assert_true(a->skip);
	assert_non_null(strstr(a->skip_reason, "discarded duplicate vacation response"));
	run_free(&r);

	/* RFC 5230 section 4.5: never answer the null sender... */
	run_init(&r);
	r.env.mail_from = "";
	(void)run_one(&r, basic_msg, "require \"vacation\";\nvacation \"away\";\n");
	sieve_result_decide(r.result);
	assert_string_equal(sieve_result_action(r.result, 0)->skip_reason,
			    "discarded vacation reply to <>");
	run_free(&r);

	/* ... nor mail that is not addressed to us (RFC 5230 section 4.5). */
	run_init(&r);
	r.env.rcpt_to = "robert@example.org";
	(void)run_one(&r, basic_msg, "require \"vacation\";\nvacation \"away\";\n");
	sieve_result_decide(r.result);
	assert_non_null(strstr(sieve_result_action(r.result, 0)->skip_reason, "implicitly"));
	run_free(&r);

	/* ... unless :addresses names an address that is (section 4.5). */
	run_init(&r);
	r.env.rcpt_to = "robert@example.org";
	(void)run_one(&r, basic_msg,
		      "require \"vacation\";\nvacation :addresses \"carol@example.net\" \"x\";\n");
	sieve_result_decide(r.result);
	assert_false(sieve_result_action(r.result, 0)->skip);
	run_free(&r);

	/* Mailing lists and Auto-Submitted mail are not answered. */
	run_init(&r);
	(void)run_one(&r,
		      "From: a@example.com\r\nTo: bob@example.org\r\nList-Id: <l.example.com>\r\n"
		      "\r\nx\r\n",
		      "require \"vacation\";\nvacation \"away\";\n");
	sieve_result_decide(r.result);
	assert_non_null(strstr(sieve_result_action(r.result, 0)->skip_reason, "mailinglist"));
	run_free(&r);
	run_init(&r);
	(void)run_one(&r,
		      "From: a@example.com\r\nTo: bob@example.org\r\n"
		      "Auto-Submitted: auto-generated\r\n\r\nx\r\n",
		      "require \"vacation\";\nvacation \"away\";\n");
	sieve_result_decide(r.result);
	assert_non_null(strstr(sieve_result_action(r.result, 0)->skip_reason, "auto-submitted"));
	run_free(&r);
}

static void test_sequence(void **state)
{
	static const char *const seq_keep[] = {
		"require \"fileinto\";\nif header :contains \"subject\" \"spam\" "
		"{ fileinto \"Junk\"; stop; }\n",
		"require \"fileinto\";\nfileinto \"User\";\n",
	};
	static const char *const seq_end[] = {
		"require \"fileinto\";\nfileinto \"Global\";\n",
		"discard;\n",
	};
	struct run r;

	(void)state;
	/* A before script that keeps lets the user script run. */
	run_init(&r);
	(void)run_scripts(&r, basic_msg, seq_keep, 2);
	assert_int_equal(sieve_result_count(r.result), 1);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "User");
	run_free(&r);
	/* One that cancels keep ends the sequence (Pigeonhole's semantics). */
	run_init(&r);
	(void)run_scripts(&r, basic_msg, seq_end, 2);
	assert_int_equal(sieve_result_count(r.result), 1);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "Global");
	assert_null(strstr(buf_cstr(&r.out), "s1"));
	run_free(&r);
}

static void test_sequence_abort(void **state)
{
	struct sieve_settings *set = sieve_settings_create();
	struct sieve_error_list errs;
	struct sieve_exec_params p;
	struct sieve_envelope env = {"a@example.com", "b@example.org", NULL, NULL};
	struct sieve_message *msg = sieve_message_create(basic_msg, strlen(basic_msg));
	const char *text = "require [\"fileinto\", \"copy\"];\nfileinto :copy \"Global\";\n";
	struct sieve_script *s;
	struct sieve_exec *ex;
	struct sieve_result *res;

	(void)state;
	/* A global script ran, then the user's did not compile: its actions
	   stay and the message is also kept (Pigeonhole's sequence abort). */
	sieve_error_list_init(&errs);
	s = sieve_compile(set, "global", text, strlen(text), &errs);
	assert_non_null(s);
	memset(&p, 0, sizeof(p));
	p.set = set;
	p.msg = &sieve_message_ops;
	p.msg_ctx = msg;
	p.envelope = &env;
	p.sequence = true;
	ex = sieve_exec_create(&p);
	assert_true(sieve_exec_run(ex, s, false));
	sieve_exec_abort(ex, "user:3:1: error: unknown command 'frob'");
	assert_false(sieve_exec_run(ex, s, true));
	res = sieve_exec_result(ex);
	assert_int_equal(sieve_result_status(res), SIEVE_STATUS_FAILED);
	assert_int_equal(sieve_result_count(res), 2);
	assert_string_equal(sieve_result_action(res, 0)->mailbox, "Global");
	assert_true(sieve_result_action(res, 1)->keep);
	assert_non_null(strstr(sieve_result_errors(res), "unknown command 'frob'"));
	sieve_exec_free(&ex);
	sieve_script_free(&s);
	sieve_message_free(&msg);
	sieve_error_list_free(&errs);
	sieve_settings_free(&set);
}

static void test_include(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	r.fe.include_name = "lib";
	r.fe.include_text = "require [\"include\", \"variables\", \"fileinto\"];\n"
			    "global \"box\";\nfileinto \"${box}\";\nreturn;\nfileinto \"never\";\n";
	(void)run_one(&r, basic_msg,
		      "require [\"include\", \"variables\", \"fileinto\"];\n"
		      "global \"box\";\nset \"box\" \"Shared\";\ninclude \"lib\";\n"
		      "include :optional \"missing\";\nfileinto \"After\";\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_OK);
	assert_int_equal(sieve_result_count(r.result), 2);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "Shared");
	assert_string_equal(sieve_result_action(r.result, 1)->mailbox, "After");
	run_free(&r);

	run_init(&r);
	r.fe.include_name = "loop";
	r.fe.include_text = "require \"include\";\ninclude \"loop\";\n";
	(void)run_one(&r, basic_msg, "require \"include\";\ninclude \"loop\";\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_FAILED);
	assert_non_null(strstr(sieve_result_errors(r.result), "circular include"));
	run_free(&r);
}

static void test_check_includes(void **state)
{
	struct sieve_settings *set = sieve_settings_create();
	struct sieve_error_list errs;
	struct sieve_script *s;
	struct fake_env fe;
	const char *text = "require \"include\";\ninclude \"loop\";\n"
			   "include :optional \"absent\";\ninclude :global \"gone\";\n";

	(void)state;
	memset(&fe, 0, sizeof(fe));
	fe.include_name = "loop";
	fe.include_text = "require \"include\";\ninclude \"loop\";\n";
	sieve_error_list_init(&errs);
	s = sieve_compile(set, "main", text, strlen(text), &errs);
	assert_non_null(s);
	assert_false(sieve_check_includes(s, &fake_ops, &fe, &errs));
	assert_non_null(strstr(buf_cstr(&errs.text), "loop:2:1: error: circular include of "
						     "script 'loop'"));
	assert_non_null(strstr(buf_cstr(&errs.text), "main:4:1: error: included global script "
						     "'gone' does not exist"));
	assert_null(strstr(buf_cstr(&errs.text), "absent"));
	sieve_script_free(&s);
	sieve_error_list_free(&errs);
	sieve_settings_free(&set);
}

static void test_duplicate_test(void **state)
{
	struct run r;
	const char *script = "require [\"duplicate\", \"fileinto\"];\n"
			     "if duplicate { fileinto \"Dup\"; }\n";

	(void)state;
	run_init(&r);
	(void)run_one(&r, basic_msg, script);
	/* Not seen yet: only the tracking action, recorded at commit. */
	assert_int_equal(sieve_result_action(r.result, 0)->type, SIEVE_ACTION_TRACK_DUPLICATE);
	sieve_result_commit(r.result);
	sieve_exec_free(&r.exec);
	sieve_message_free(&r.msg);
	(void)run_one(&r, basic_msg, script);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "Dup");
	run_free(&r);
}

static void test_tempfail_and_warnings(void **state)
{
	struct run r;

	(void)state;
	/* A broken duplicate database defers the delivery instead of keeping. */
	run_init(&r);
	r.fe.db_broken = true;
	(void)run_one(&r, basic_msg, "require \"duplicate\";\nif duplicate { discard; }\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_TEMPFAIL);
	assert_non_null(strstr(sieve_result_errors(r.result), "failed to check for duplicate"));
	run_free(&r);

	run_init(&r);
	r.set->extensions[SIEVE_EXT_VACATION_SECONDS] = true;
	(void)run_one(&r, basic_msg, "require \"vacation-seconds\";\nvacation :seconds 5 \"x\";\n");
	assert_int_equal(sieve_result_status(r.result), SIEVE_STATUS_OK);
	assert_non_null(
		strstr(sieve_result_warnings(r.result),
		       "s0:2:1: warning: specified :seconds value '5' is under the minimum"));
	assert_int_equal(sieve_result_action(r.result, 0)->vacation.seconds, 86400);
	run_free(&r);
}

static void test_editheader_applied(void **state)
{
	struct run r;
	struct buf out;
	const char *s;

	(void)state;
	run_init(&r);
	r.set->extensions[SIEVE_EXT_EDITHEADER] = true;
	(void)run_one(&r, basic_msg,
		      "require [\"editheader\", \"fileinto\"];\n"
		      "addheader \"X-Filtered\" \"yes\";\ndeleteheader \"cc\";\n"
		      "addheader :last \"X-Last\" \"z\";\n"
		      "if header :is \"x-filtered\" \"yes\" { fileinto \"Seen\"; }\n");
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "Seen");
	assert_true(sieve_result_header_edited(r.result));
	buf_init(&out, 64 * 1024);
	assert_true(sieve_result_apply_edits(r.result, basic_msg, strlen(basic_msg), &out));
	s = buf_cstr(&out);
	assert_int_equal(strncmp(s, "X-Filtered: yes\r\nReturn-Path:", 29), 0);
	assert_null(strstr(s, "Cc:"));
	assert_non_null(strstr(s, "Message-ID: <1@example.com>\r\nX-Last: z\r\n\r\nHi Bob"));
	buf_free(&out);
	run_free(&r);
}

/* A message backend whose header cannot be read: a runtime error. */
static int broken_fields(void *ctx, const struct sieve_header_field **f, size_t *n)
{
	(void)ctx;
	(void)f;
	(void)n;
	return -1;
}

static void test_broken_backend(void **state)
{
	struct sieve_message_ops ops = sieve_message_ops;
	struct sieve_settings *set = sieve_settings_create();
	struct sieve_error_list errs;
	struct sieve_exec_params p;
	struct sieve_envelope env = {"a@example.com", "b@example.org", NULL, NULL};
	struct sieve_message *msg = sieve_message_create(basic_msg, strlen(basic_msg));
	struct sieve_script *s;
	struct sieve_exec *ex;
	struct sieve_result *res;
	const char *text = "require \"fileinto\";\n"
			   "if header :is \"subject\" \"x\" { fileinto \"A\"; }\n";

	(void)state;
	ops.get_header_fields = broken_fields;
	sieve_error_list_init(&errs);
	s = sieve_compile(set, "s", text, strlen(text), &errs);
	assert_non_null(s);
	memset(&p, 0, sizeof(p));
	p.set = set;
	p.msg = &ops;
	p.msg_ctx = msg;
	p.envelope = &env;
	ex = sieve_exec_create(&p);
	(void)sieve_exec_run(ex, s, true);
	res = sieve_exec_result(ex);
	assert_int_equal(sieve_result_status(res), SIEVE_STATUS_FAILED);
	assert_true(sieve_result_action(res, 0)->keep);
	sieve_exec_free(&ex);
	sieve_script_free(&s);
	sieve_message_free(&msg);
	sieve_error_list_free(&errs);
	sieve_settings_free(&set);
}

static void test_date_and_body(void **state)
{
	struct run r;

	(void)state;
	run_init(&r);
	(void)run_one(&r,
		      "From: a@example.com\r\nDate: Tue, 5 Mar 2024 07:08:09 -0700\r\n"
		      "Content-Type: text/plain; charset=iso-8859-1\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 cr=E8me\r\n",
		      "require [\"date\", \"body\", \"variables\", \"fileinto\"];\n"
		      "if date :originalzone :matches \"date\" \"iso8601\" \"*\" "
		      "{ fileinto \"${1}\"; }\n"
		      "if date :matches \"date\" \"std11\" \"*\" { fileinto \"${1}\"; }\n"
		      "if currentdate :matches \"date\" \"*\" { fileinto \"${1}\"; }\n"
		      "if body :contains \"Café crème\" { fileinto \"Body\"; }\n");
	assert_int_equal(sieve_result_count(r.result), 4);
	assert_string_equal(sieve_result_action(r.result, 0)->mailbox, "2024-03-05T07:08:09-07:00");
	assert_string_equal(sieve_result_action(r.result, 1)->mailbox,
			    "Tue, 05 Mar 2024 14:08:09 +0000");
	assert_string_equal(sieve_result_action(r.result, 2)->mailbox, "2024-01-01");
	assert_string_equal(sieve_result_action(r.result, 3)->mailbox, "Body");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_implicit_keep),
		cmocka_unit_test(test_fileinto_cancels_keep),
		cmocka_unit_test(test_discard_and_stop),
		cmocka_unit_test(test_duplicates_collapse),
		cmocka_unit_test(test_runtime_error_keeps),
		cmocka_unit_test(test_limits_at_runtime),
		cmocka_unit_test(test_variables_and_matches),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_envelope_null_sender),
		cmocka_unit_test(test_vacation_decisions),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_sequence_abort),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_check_includes),
		cmocka_unit_test(test_duplicate_test),
		cmocka_unit_test(test_tempfail_and_warnings),
		cmocka_unit_test(test_editheader_applied),
		cmocka_unit_test(test_broken_backend),
		cmocka_unit_test(test_date_and_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
