/*
 * Unit tests for lib/config-parser.c and lib/settings.c: Dovecot's syntax,
 * includes, typed values, errors with file and line, per-protocol views,
 * service defaults and the flattened round trip master uses for children.
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

#include "settings.h"

static char tmpdir[] = "/tmp/roost-test-settings.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	assert_true(str_format(path, sizeof(path), "%s/%s", tmpdir, name));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct roost_settings *read_text(const char *text, char **error_r)
{
	*error_r = NULL;
	return settings_read_text("roost.conf", text, strlen(text), error_r);
}

static void test_basic_values(void **state)
{
	char *error;
	struct roost_settings *set = read_text("# comment\n"
					       "login_max_processes_count = 256\n"
					       "base_dir = \"/tmp/x y\" # trailing comment\n"
					       "login_greeting = Hello #1 world\n"
					       "default_vsz_limit = 512 M\n"
					       "auth_failure_delay = 3 secs\n"
					       "pop3_lock_session=yes\n"
					       "mail_plugins = quota\n"
					       "mail_plugins = $mail_plugins sieve\n",
					       &error);

	(void)state;
	assert_non_null(set);
	assert_int_equal(set->login_max_processes_count, 256);
	assert_string_equal(set->base_dir, "/tmp/x y");
	assert_string_equal(set->login_greeting, "Hello");
	assert_true(set->default_vsz_limit == 512ULL * 1024 * 1024);
	assert_true(set->auth_failure_delay == 3000);
	assert_true(set->pop3_lock_session);
	assert_string_equal(set->mail_plugins, "quota sieve");
	/* Defaults of settings not given. */
	assert_int_equal(set->mail_max_userip_connections, 10);
	assert_string_equal(set->instance_name, "roost");
	settings_free(&set);
	assert_null(set);
}

static void test_errors_have_file_and_line(void **state)
{
	char *error;

	(void)state;
	assert_null(read_text("base_dir = /x\n\nmail_max_userip_conections = 5\n", &error));
	assert_string_equal(error, "roost.conf:3: Unknown setting: mail_max_userip_conections "
				   "(did you mean mail_max_userip_connections?)");
	free(error);
	assert_null(read_text("service imap {\n  vsz_limit = 256Q\n}\n", &error));
	assert_string_equal(error,
			    "roost.conf:2: vsz_limit: Invalid size (use e.g. 256M, 1G): 256Q");
	free(error);
	assert_null(read_text("ssl = maybe\n", &error));
	assert_non_null(strstr(error, "roost.conf:1: ssl: Invalid value 'maybe'"));
	free(error);
	assert_null(read_text("service imap {\n", &error));
	assert_non_null(strstr(error, "Missing '}'"));
	free(error);
	assert_null(read_text("}\n", &error));
	assert_non_null(strstr(error, "roost.conf:1: Unexpected '}'"));
	free(error);
	assert_null(read_text("service nosuch {\n}\n", &error));
	assert_string_equal(error, "roost.conf:1: Unknown service: nosuch");
	free(error);
	assert_null(read_text("login_greeting = \"unterminated\n", &error));
	assert_non_null(strstr(error, "Missing closing quote"));
	free(error);
	assert_null(read_text("frobnicate\n", &error));
	assert_non_null(strstr(error, "roost.conf:1: Expecting '=' or '{' after frobnicate"));
	free(error);
	assert_null(read_text("service auth {\n  unix_listener auth-userdb {\n    mode = 0668\n"
			      "  }\n}\n",
			      &error));
	assert_string_equal(error, "roost.conf:2: unix_listener auth-userdb: Invalid mode: 0668 "
				   "(expected an octal number such as 0660)");
	free(error);
	assert_null(read_text("service auth {\n  unix_listener auth-userdb {\n    mode = 4777\n"
			      "  }\n}\n",
			      &error));
	free(error);
}

/* A unix_listener block changes only what it names; the rest keeps the
   listener's own defaults, and `config -n` shows only the change. */
static void test_unix_listener_defaults(void **state)
{
	char *error;
	struct roost_settings *set = read_text("service auth {\n"
					       "  unix_listener auth-userdb {\n"
					       "    group = vmail\n"
					       "  }\n"
					       "}\n",
					       &error);
	struct roost_settings *defaults = settings_defaults();
	struct buf out = BUF_INIT(1024 * 1024);
	const struct service_settings *svc;

	(void)state;
	assert_non_null(set);
	svc = settings_service(defaults, "auth");
	assert_int_equal(svc->unix_listener_count, 1);
	assert_string_equal(svc->unix_listeners[0].path, "auth-userdb");
	assert_string_equal(svc->unix_listeners[0].mode, "0660");
	svc = settings_service(set, "auth");
	assert_int_equal(svc->unix_listener_count, 1);
	assert_string_equal(svc->unix_listeners[0].mode, "0660");
	assert_string_equal(svc->unix_listeners[0].group, "vmail");
	settings_write(&out, set, true, false);
	assert_string_equal(buf_cstr(&out), "service auth {\n"
					    "  unix_listener auth-userdb {\n"
					    "    group = vmail\n"
					    "  }\n"
					    "}\n");
	settings_free(&set);

	/* A second block merges into the first; an explicit mode wins. */
	set = read_text("service auth {\n  unix_listener auth-userdb {\n    user = vmail\n  }\n"
			"  unix_listener auth-userdb {\n    mode = 0600\n  }\n}\n",
			&error);
	assert_non_null(set);
	svc = settings_service(set, "auth");
	assert_int_equal(svc->unix_listener_count, 1);
	assert_string_equal(svc->unix_listeners[0].mode, "0600");
	assert_string_equal(svc->unix_listeners[0].user, "vmail");
	buf_reset(&out);
	settings_write(&out, defaults, true, false);
	assert_int_equal(buf_len(&out), 0);
	buf_free(&out);
	settings_free(&set);
	settings_free(&defaults);
}

/* A service value equal to the built-in default stays in `config -n` when
   the global it would otherwise follow differs, so the output reads back
   as the same settings. */
static void test_changed_only_reads_back(void **state)
{
	char *error;
	struct roost_settings *set = read_text("default_client_limit = 4000\n"
					       "default_vsz_limit = 512M\n"
					       "service imap-login {\n  client_limit = 1000\n}\n"
					       "service auth {\n  vsz_limit = 512M\n}\n",
					       &error);
	struct roost_settings *again;
	struct buf out = BUF_INIT(1024 * 1024);

	(void)state;
	assert_non_null(set);
	settings_write(&out, set, true, false);
	assert_non_null(strstr(buf_cstr(&out), "service imap-login {\n  client_limit = 1000\n}"));
	/* Equal to what it follows from default_vsz_limit: nothing to say. */
	assert_null(strstr(buf_cstr(&out), "service auth"));
	again = settings_read_text("n", buf_cstr(&out), buf_len(&out), &error);
	assert_non_null(again);
	assert_int_equal(settings_service(again, "imap-login")->client_limit, 1000);
	assert_int_equal(settings_service(again, "pop3-login")->client_limit, 4000);
	assert_int_equal(settings_service(again, "auth")->vsz_limit, 512ull * 1024 * 1024);
	buf_free(&out);
	settings_free(&set);
	settings_free(&again);
}

static void test_protocol_and_services(void **state)
{
	char *error;
	struct roost_settings *set = read_text("mail_max_userip_connections = 20\n"
					       "protocol imap {\n"
					       "  mail_max_userip_connections = 42\n"
					       "}\n"
					       "service imap {\n"
					       "  vsz_limit = 512M\n"
					       "}\n"
					       "service anvil {\n"
					       "  client_limit = 6000\n"
					       "}\n"
					       "service imap-login {\n"
					       "  inet_listener imap {\n"
					       "    port = 10143\n"
					       "  }\n"
					       "  inet_listener imaps {\n"
					       "    port = 0\n"
					       "  }\n"
					       "}\n"
					       "service lmtp {\n"
					       "}\n",
					       &error);
	const struct service_settings *svc;

	(void)state;
	assert_non_null(set);
	assert_int_equal(settings_for_protocol(set, "imap")->mail_max_userip_connections, 42);
	assert_int_equal(settings_for_protocol(set, "pop3")->mail_max_userip_connections, 20);
	svc = settings_service(set, "imap");
	assert_true(svc->vsz_limit == 512ULL * 1024 * 1024);
	assert_int_equal(svc->client_limit, 1);
	svc = settings_service(set, "policy");
	assert_int_equal(svc->client_limit, 6000);
	assert_string_equal(svc->user, "roostnull");
	assert_string_equal(svc->chroot, "empty");
	svc = settings_service(set, "imap-login");
	assert_int_equal(svc->process_limit, 128);
	assert_int_equal(svc->inet_listener_count, 2);
	assert_int_equal(svc->inet_listeners[0].port, 10143);
	assert_int_equal(svc->inet_listeners[1].port, 0);
	assert_true(svc->inet_listeners[1].ssl);
	assert_string_equal(svc->inet_listeners[0].address, "*, ::");
	assert_non_null(strstr(set->warnings, "roost.conf:19: Ignoring service lmtp"));
	settings_free(&set);
}

static void test_includes(void **state)
{
	char path[512], *error;
	struct roost_settings *set;

	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	assert_true(str_format(path, sizeof(path), "%s/conf.d", tmpdir));
	assert_int_equal(mkdir(path, 0700), 0);
	write_file("roost.conf", "!include conf.d/*.conf\n"
				 "!include_try missing.conf\n"
				 "protocol imap {\n"
				 "  !include imap.inc\n"
				 "}\n"
				 "ssl_cert = </no/such/file\n"
				 "login_greeting = <greeting.txt\n");
	write_file("conf.d/10-a.conf", "login_max_processes_count = 7\n");
	write_file("conf.d/20-b.conf", "login_max_processes_count = 9\n");
	write_file("imap.inc", "mail_max_userip_connections = 3\n");
	write_file("greeting.txt", "Welcome here\n");
	assert_true(str_format(path, sizeof(path), "%s/roost.conf", tmpdir));
	set = settings_read_file(path, &error);
	if (set == NULL)
		fail_msg("%s", error);
	assert_int_equal(set->login_max_processes_count, 9);
	assert_int_equal(settings_for_protocol(set, "imap")->mail_max_userip_connections, 3);
	assert_string_equal(set->ssl_cert, "</no/such/file");
	assert_string_equal(set->login_greeting, "Welcome here");
	settings_free(&set);

	write_file("conf.d/30-bad.conf", "\n\nbogus_setting = 1\n");
	set = settings_read_file(path, &error);
	assert_null(set);
	assert_non_null(strstr(error, "conf.d/30-bad.conf:3: Unknown setting: bogus_setting"));
	free(error);
	write_file("roost.conf", "!include nothere.conf\n");
	assert_null(settings_read_file(path, &error));
	assert_non_null(strstr(error, "roost.conf:1: !include"));
	free(error);
}

static void test_round_trip(void **state)
{
	char *error;
	const char *text = "login_greeting = \"two words # and \\\"quotes\\\"\"\n"
			   "protocol pop3 {\n  pop3_lock_session = yes\n}\n"
			   "protocol imap {\n  # nothing differs here\n}\n"
			   "protocol lda {\n  pop3_lock_session = no\n}\n"
			   "namespace inbox {\n  inbox = yes\n  separator = /\n"
			   "  mailbox \"Sent Messages\" {\n    special_use = \\Sent\n"
			   "    auto = subscribe\n  }\n}\n"
			   "passdb {\n  driver = passwd-file\n  args = /etc/roost/users\n}\n"
			   "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n";
	struct roost_settings *set = read_text(text, &error), *set2;
	struct buf out1 = BUF_INIT(1024 * 1024), out2 = BUF_INIT(1024 * 1024);

	(void)state;
	assert_non_null(set);
	assert_string_equal(set->namespaces[0].mailboxes[0].name, "Sent Messages");
	assert_string_equal(set->namespaces[0].mailboxes[0].auto_, "subscribe");
	assert_string_equal(settings_plugin_get(set, "sieve"),
			    "file:~/sieve;active=~/.dovecot.sieve");
	settings_write(&out1, set, false, true);
	set2 = settings_read_text("flat", buf_cstr(&out1), buf_len(&out1), &error);
	assert_non_null(set2);
	settings_write(&out2, set2, false, true);
	assert_string_equal(buf_cstr(&out1), buf_cstr(&out2));
	assert_string_equal(set2->login_greeting, "two words # and \"quotes\"");
	assert_true(settings_for_protocol(set2, "pop3")->pop3_lock_session);
	assert_false(set2->pop3_lock_session);

	buf_reset(&out1);
	settings_write(&out1, set, true, false);
	assert_non_null(strstr(buf_cstr(&out1), "login_greeting = "));
	assert_null(strstr(buf_cstr(&out1), "base_dir"));
	assert_non_null(strstr(buf_cstr(&out1), "protocol pop3 {\n  pop3_lock_session = yes\n}"));
	/* Blocks that change nothing are not printed, in either mode. */
	assert_null(strstr(buf_cstr(&out1), "protocol imap"));
	assert_null(strstr(buf_cstr(&out1), "protocol lda"));
	assert_null(strstr(buf_cstr(&out2), "protocol imap"));
	assert_non_null(settings_for_protocol(set2, "imap"));
	buf_free(&out1);
	buf_free(&out2);
	settings_free(&set);
	settings_free(&set2);
}

static void test_value_parsers(void **state)
{
	uint64_t v;
	unsigned int u;
	bool b;
	char str[32];

	(void)state;
	assert_true(settings_parse_size("1G", &v) && v == 1024ULL * 1024 * 1024);
	assert_true(settings_parse_size("64k", &v) && v == 65536);
	assert_true(settings_parse_size("100", &v) && v == 100);
	assert_false(settings_parse_size("-1", &v));
	assert_false(settings_parse_size("99999999999999999999999", &v));
	assert_false(settings_parse_size("1X", &v));
	assert_true(settings_parse_time("2 secs", &v) && v == 2000);
	assert_true(settings_parse_time("1 min", &v) && v == 60000);
	assert_true(settings_parse_time("100 ms", &v) && v == 100);
	assert_true(settings_parse_time("5", &v) && v == 5000);
	assert_false(settings_parse_time("5 fortnights", &v));
	assert_true(settings_parse_uint("42", &u) && u == 42);
	assert_false(settings_parse_uint("4294967296", &u));
	assert_true(settings_parse_bool("yes", &b) && b);
	assert_true(settings_parse_bool("no", &b) && !b);
	assert_false(settings_parse_bool("maybe", &b));
	settings_format_size(256ULL * 1024 * 1024, str, sizeof(str));
	assert_string_equal(str, "256 MB");
	settings_format_size(32ULL * 1024 * 1024, str, sizeof(str));
	assert_string_equal(str, "32 MB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_values),
		cmocka_unit_test(test_errors_have_file_and_line),
		cmocka_unit_test(test_changed_only_reads_back),
		cmocka_unit_test(test_protocol_and_services),
		cmocka_unit_test(test_unix_listener_defaults),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_value_parsers),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[600];

	if (str_format(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir))
		ret |= system(cmd) != 0;
	return ret;
}
