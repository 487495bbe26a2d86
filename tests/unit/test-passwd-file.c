/*
 * Unit tests for lib/passwd-file.c: Dovecot-format lines with every field
 * count, extra fields with ':' and '=' in values, comments and blank lines,
 * strict refusals with file:line, limits, reload detection, and the
 * passwd-file and static userdb args strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "passwd-file.h"

static const char sample[] =
	"# roost users\n"
	"\n"
	"   \t \n"
	"jdoe@example.com:{SHA512-CRYPT}$6$x$y:5000:5000::/home/vmail/example.com/jdoe::"
	"userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G\n"
	"  # indented comment\n"
	"bob:{PLAIN}pw:1001:1001:Bob Builder,,,:/home/bob:/bin/sh\n"
	"nopw@example.com::::::: nopassword  nodelay allow_nets=127.0.0.1/8,::1\r\n"
	"closed@example.com:{PLAIN}x:::::: nologin reason=Moved_to_new_server\n"
	"onlypass:secret\n"
	"bare\n"
	"vmail@example.com:{PLAIN}x:vmail:mail";

static struct passwd_file *parse(const char *text, char **error_r)
{
	return passwd_file_parse("users", text, strlen(text), NULL, error_r);
}

static void test_fields(void **state)
{
	char *error = NULL;
	struct passwd_file *pf = parse(sample, &error);
	const struct passwd_file_entry *e;

	(void)state;
	assert_non_null(pf);
	assert_int_equal(passwd_file_count(pf), 7);

	e = passwd_file_lookup(pf, "jdoe@example.com");
	assert_non_null(e);
	assert_int_equal(e->line, 4);
	assert_string_equal(e->password, "{SHA512-CRYPT}$6$x$y");
	assert_string_equal(e->uid, "5000");
	assert_string_equal(e->gid, "5000");
	assert_null(e->gecos);
	assert_string_equal(e->home, "/home/vmail/example.com/jdoe");
	assert_null(e->shell);
	assert_int_equal(e->field_count, 2);
	assert_string_equal(passwd_file_entry_get(e, "userdb_mail"), "maildir:~/Maildir");
	assert_string_equal(passwd_file_entry_get(e, "userdb_quota_rule"), "*:storage=1G");
	assert_null(passwd_file_entry_get(e, "nologin"));

	e = passwd_file_lookup(pf, "bob");
	assert_string_equal(e->gecos, "Bob Builder,,,");
	assert_string_equal(e->shell, "/bin/sh");
	assert_int_equal(e->field_count, 0);

	/* Bare flags, a CRLF line, and values holding ':' and ','. */
	e = passwd_file_lookup(pf, "nopw@example.com");
	assert_null(e->password);
	assert_string_equal(passwd_file_entry_get(e, "nopassword"), "");
	assert_string_equal(passwd_file_entry_get(e, "nodelay"), "");
	assert_string_equal(passwd_file_entry_get(e, "allow_nets"), "127.0.0.1/8,::1");

	e = passwd_file_lookup(pf, "closed@example.com");
	assert_string_equal(passwd_file_entry_get(e, "nologin"), "");
	assert_string_equal(passwd_file_entry_get(e, "reason"), "Moved_to_new_server");

	/* Fields missing at the end. */
	e = passwd_file_lookup(pf, "onlypass");
	assert_string_equal(e->password, "secret");
	assert_null(e->uid);
	assert_null(e->home);
	e = passwd_file_lookup(pf, "bare");
	assert_null(e->password);
	e = passwd_file_lookup(pf, "vmail@example.com");
	assert_string_equal(e->uid, "vmail");
	assert_string_equal(e->gid, "mail");
	assert_int_equal(e->line, 11);

	assert_null(passwd_file_lookup(pf, "JDOE@example.com"));
	assert_null(passwd_file_lookup(pf, "nobody"));
	assert_null(passwd_file_lookup(pf, ""));
	assert_string_equal(passwd_file_entry_at(pf, 0)->user, "jdoe@example.com");
	assert_string_equal(passwd_file_entry_at(pf, 6)->user, "vmail@example.com");
	assert_null(passwd_file_entry_at(pf, 7));
	assert_int_equal(passwd_file_changed(pf, &error), 0);
	passwd_file_free(&pf);
	assert_null(pf);
}

static void expect_error(const char *text, const char *want)
{
	char *error = NULL;
	struct passwd_file *pf = parse(text, &error);

	assert_null(pf);
	assert_non_null(error);
	if (strstr(error, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", error, want);
	free(error);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error("a:x\n:x\n", "users:2: Empty user name");
	expect_error("a:x\nb:y\na:z\n", "users:3: User a already defined at line 1");
	expect_error(" a:x\n", "users:1: User name contains whitespace");
	expect_error("a b:x\n", "users:1: User name contains whitespace");
	expect_error("a:x\x01y\n", "users:1: Control character in line");
	expect_error("a:x::::::=v\n", "users:1: Extra field without a name");
	expect_error("a:x::::::k;y=v\n", "users:1: Invalid extra field name");
	expect_error("a:x\rb\n", "users:1: Control character");

	const char nul[] = "a:x\nb:y\0z\n";
	char *error = NULL;

	assert_null(passwd_file_parse("users", nul, sizeof(nul) - 1, NULL, &error));
	assert_string_equal(error, "users:2: NUL byte in line");
	free(error);
}

static void test_limits(void **state)
{
	struct passwd_file_limits lim = {
		.line_max = 16, .entries_max = 2, .size_max = 64, .fields_max = 2};
	struct passwd_file *pf;
	char *error = NULL;
	const char *t;

	(void)state;
	t = "a:12345678901234\nb:123456789012345\n";
	assert_null(passwd_file_parse("f", t, strlen(t), &lim, &error));
	assert_string_equal(error, "f:2: Line is longer than 16 bytes");
	free(error);
	t = "a:x\nb:y\n#c\nc:z\n";
	assert_null(passwd_file_parse("f", t, strlen(t), &lim, &error));
	assert_string_equal(error, "f:4: More than 2 users");
	free(error);
	t = "a:x:::::: k l m\n";
	lim.line_max = 100;
	assert_null(passwd_file_parse("f", t, strlen(t), &lim, &error));
	assert_string_equal(error, "f:1: More than 2 extra fields");
	free(error);
	static char big[100];
	memset(big, '#', sizeof(big));
	assert_null(passwd_file_parse("f", big, sizeof(big), &lim, &error));
	assert_string_equal(error, "f: File is larger than 64 bytes");
	free(error);
	/* Exactly at the limits is fine; an empty file is an empty table. */
	t = "a:x:::::: k l\nb:1234567890123";
	pf = passwd_file_parse("f", t, strlen(t), &lim, &error);
	if (pf == NULL)
		fail_msg("%s", error);
	passwd_file_free(&pf);
	pf = passwd_file_parse("f", "", 0, NULL, &error);
	assert_non_null(pf);
	assert_int_equal(passwd_file_count(pf), 0);
	passwd_file_free(&pf);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void test_read_and_reload(void **state)
{
	char dir[] = "/tmp/roost-pwf-XXXXXX", path[64], tmp[64];
	struct passwd_file *pf;
	char *error = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	snprintf(tmp, sizeof(tmp), "%s/users.new", dir);

	pf = passwd_file_read(path, NULL, &error);
	assert_null(pf);
	assert_non_null(strstr(error, "open() failed: No such file or directory"));
	free(error);

	write_file(path, "a:{PLAIN}1\n");
	pf = passwd_file_read(path, NULL, &error);
	assert_non_null(pf);
	assert_int_equal(passwd_file_changed(pf, &error), 0);
	/* Replaced by rename, as editors and roostadm do: a new inode. */
	write_file(tmp, "a:{PLAIN}2\n");
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(passwd_file_changed(pf, &error), 1);
	passwd_file_free(&pf);
	pf = passwd_file_read(path, NULL, &error);
	assert_string_equal(passwd_file_lookup(pf, "a")->password, "{PLAIN}2");
	/* Rewritten in place with another size. */
	write_file(path, "a:{PLAIN}22\n");
	assert_int_equal(passwd_file_changed(pf, &error), 1);
	passwd_file_free(&pf);

	/* A broken file names its path and line. */
	write_file(path, "a:x\n\n:y\n");
	pf = passwd_file_read(path, NULL, &error);
	assert_null(pf);
	char want[96];

	snprintf(want, sizeof(want), "%s:3: Empty user name", path);
	assert_string_equal(error, want);
	free(error);

	write_file(path, "a:x\n");
	pf = passwd_file_read(path, NULL, &error);
	assert_non_null(pf);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(passwd_file_changed(pf, &error), -1);
	free(error);
	passwd_file_free(&pf);

	pf = passwd_file_read(dir, NULL, &error);
	assert_null(pf);
	assert_non_null(strstr(error, "Not a regular file"));
	free(error);
	assert_int_equal(rmdir(dir), 0);
}

static void test_args(void **state)
{
	struct passwd_file_args a;
	char *error = NULL;

	(void)state;
	assert_true(passwd_file_args_parse(
		"scheme=SHA512-CRYPT username_format=%u /etc/roost/users", &a, &error));
	assert_string_equal(a.path, "/etc/roost/users");
	assert_string_equal(a.scheme, "SHA512-CRYPT");
	assert_string_equal(a.username_format, "%u");
	passwd_file_args_free(&a);
	assert_null(a.path);

	assert_true(passwd_file_args_parse("  /etc/roost/%d/passwd ", &a, &error));
	assert_string_equal(a.path, "/etc/roost/%d/passwd");
	assert_null(a.scheme);
	assert_null(a.username_format);
	passwd_file_args_free(&a);

	assert_false(passwd_file_args_parse("scheme=NOPE /etc/users", &a, &error));
	assert_string_equal(error, "passwd-file args: Unknown scheme: NOPE");
	free(error);
	assert_false(passwd_file_args_parse("blocking=yes /etc/users", &a, &error));
	assert_string_equal(error, "passwd-file args: Unknown option: blocking=yes");
	free(error);
	assert_false(passwd_file_args_parse("scheme=PLAIN", &a, &error));
	assert_string_equal(error, "passwd-file args: no file path given");
	free(error);
	assert_false(passwd_file_args_parse("users.txt", &a, &error));
	free(error);
	assert_false(passwd_file_args_parse("/etc/users scheme=PLAIN", &a, &error));
	free(error);
	assert_false(passwd_file_args_parse("", &a, &error));
	free(error);
}

static void test_static_args(void **state)
{
	struct passwd_file_static_args s;
	char *error = NULL;

	(void)state;
	assert_true(passwd_file_static_args_parse(
		"uid=vmail gid=vmail home=/home/vmail/%d/%n allow_all_users=yes "
		"mail=maildir:~/Maildir quota_rule=*:storage=1G",
		&s, &error));
	assert_string_equal(s.uid, "vmail");
	assert_string_equal(s.gid, "vmail");
	assert_string_equal(s.home, "/home/vmail/%d/%n");
	assert_true(s.allow_all_users);
	assert_int_equal(s.field_count, 2);
	assert_string_equal(s.fields[0].key, "mail");
	assert_string_equal(s.fields[0].value, "maildir:~/Maildir");
	assert_string_equal(s.fields[1].key, "quota_rule");
	assert_string_equal(s.fields[1].value, "*:storage=1G");
	passwd_file_static_args_free(&s);
	assert_null(s.uid);

	assert_true(passwd_file_static_args_parse("uid=5000", &s, &error));
	assert_null(s.home);
	assert_false(s.allow_all_users);
	passwd_file_static_args_free(&s);

	assert_false(passwd_file_static_args_parse("uid=1 vmail", &s, &error));
	assert_string_equal(error, "static args: expected key=value, got: vmail");
	free(error);
	assert_false(passwd_file_static_args_parse("allow_all_users=maybe", &s, &error));
	free(error);
	assert_false(passwd_file_static_args_parse("=x", &s, &error));
	free(error);
}

static void test_resolve_ids(void **state)
{
	uid_t uid;
	gid_t gid;
	char *error = NULL;

	(void)state;
	assert_true(passwd_file_resolve_uid("5000", &uid, &error));
	assert_int_equal(uid, 5000);
	assert_true(passwd_file_resolve_uid("root", &uid, &error));
	assert_int_equal(uid, 0);
	assert_true(passwd_file_resolve_gid("root", &gid, &error));
	assert_int_equal(gid, 0);
	assert_true(passwd_file_resolve_gid("0", &gid, &error));
	assert_false(passwd_file_resolve_uid("no-such-user-here", &uid, &error));
	assert_string_equal(error, "Unknown user name for uid: no-such-user-here");
	free(error);
	assert_false(passwd_file_resolve_uid("12x", &uid, &error));
	free(error);
	assert_false(passwd_file_resolve_uid("4294967295", &uid, &error));
	free(error);
	assert_false(passwd_file_resolve_uid("99999999999", &uid, &error));
	free(error);
	assert_false(passwd_file_resolve_gid("", &gid, &error));
	free(error);
	assert_false(passwd_file_resolve_gid("no-such-group-here", &gid, &error));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),	    cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_limits),	    cmocka_unit_test(test_read_and_reload),
		cmocka_unit_test(test_args),	    cmocka_unit_test(test_static_args),
		cmocka_unit_test(test_resolve_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
