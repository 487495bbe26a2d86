/*
 * libFuzzer harness for the Sieve interpreter: the input is a script, a NUL
 * byte and a message (or just a script, run on a fixed message). Runs it
 * with every extension enabled through a two-script sequence, prints the
 * result, makes the execution decisions and applies header edits, checking
 * that a failed run always falls back to keeping the message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/sieve/sieve-message.h"
#include "../lda/sieve/sieve-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_msg[] =
	"Return-Path: <alice@example.com>\r\n"
	"From: Alice <alice@example.com>\r\n"
	"To: Bob <bob+tag@example.org>, carol@example.net\r\n"
	"Subject: =?utf-8?q?Hello_w=C3=B6rld?=\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
	"Message-ID: <1@example.com>\r\n"
	"X-Spam-Score: 4.5\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n"
	"\r\n"
	"pre\r\n--b\r\nContent-Type: text/plain\r\n\r\nHi Bob\r\n"
	"--b\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--b--\r\nepi\r\n";

static const char before_script[] = "require [\"imap4flags\", \"variables\"];\n"
				    "set \"v\" \"x\";\naddflag \"$Checked\";\n";

static struct sieve_settings *settings(void)
{
	static struct sieve_settings *set;
	const char *error;
	unsigned int i;

	if (set == NULL) {
		set = sieve_settings_create();
		for (i = 0; i < SIEVE_EXT_COUNT; i++)
			set->extensions[i] = true;
		/* Keep runs short; the fuzzer looks for crashes, not slowness. */
		set->max_cpu_time = 2;
		(void)sieve_settings_set(set, "sieve_spamtest_status_type", "score", &error);
		(void)sieve_settings_set(set, "sieve_spamtest_status_header",
					 "X-Spam-Score: ([0-9.]+)", &error);
		(void)sieve_settings_set(set, "sieve_spamtest_max_value", "10", &error);
	}
	return set;
}

static int fuzz_load(void *ctx, enum sieve_include_location loc, const char *name, struct buf *out,
		     const char **error_r)
{
	(void)ctx;
	(void)loc;
	(void)error_r;
	if (strcmp(name, "lib") != 0)
		return 0;
	return buf_append_str(out, "require \"fileinto\";\nfileinto \"Lib\";\n") ? 1 : -1;
}

static int fuzz_exists(void *ctx, const char *mailbox)
{
	(void)ctx;
	return strcmp(mailbox, "INBOX") == 0;
}

static const struct sieve_env_ops fuzz_env = {
	.mailbox_exists = fuzz_exists,
	.script_load = fuzz_load,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t script_len = nul != NULL ? (size_t)(nul - data) : size;
	const char *msg_data = nul != NULL ? (const char *)nul + 1 : fixed_msg;
	size_t msg_len = nul != NULL ? size - script_len - 1 : strlen(fixed_msg);
	struct sieve_envelope env = {"alice@example.com", "bob@example.org", "bob+tag@example.org",
				     NULL};
	struct sieve_error_list errs;
	struct sieve_script *before, *script;
	struct sieve_exec_params p;
	struct sieve_message *msg;
	struct sieve_exec *ex;
	struct sieve_result *res;
	struct buf out = BUF_INIT(64 << 20), edited = BUF_INIT(64 << 20);
	unsigned int i;

	sieve_error_list_init(&errs);
	script = sieve_compile(settings(), "fuzz", data, script_len, &errs);
	before = sieve_compile(settings(), "before", before_script, strlen(before_script), &errs);
	if (script == NULL || before == NULL)
		goto out;
	msg = sieve_message_create(msg_data, msg_len);
	memset(&p, 0, sizeof(p));
	p.set = settings();
	p.msg = &sieve_message_ops;
	p.msg_ctx = msg;
	p.envelope = &env;
	p.env = &fuzz_env;
	p.trace = &out;
	p.print_script_names = true;
	ex = sieve_exec_create(&p);
	if (sieve_exec_run(ex, before, false))
		(void)sieve_exec_run(ex, script, true);
	res = sieve_exec_result(ex);
	sieve_result_decide(res);
	sieve_result_print_executed(res, &out);
	(void)sieve_result_apply_edits(res, msg_data, msg_len, &edited);
	if (sieve_result_status(res) != SIEVE_STATUS_OK) {
		/* A failed script must leave the implicit keep in place. */
		bool kept = false;

		for (i = 0; i < sieve_result_count(res); i++) {
			if (sieve_result_action(res, i)->keep)
				kept = true;
		}
		if (!kept)
			abort();
	}
	sieve_exec_free(&ex);
	sieve_message_free(&msg);
out:
	sieve_script_free(&script);
	sieve_script_free(&before);
	sieve_error_list_free(&errs);
	buf_free(&out);
	buf_free(&edited);
	return 0;
}
