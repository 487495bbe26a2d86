/*
 * Unit tests for storage/maildir-filename.c: Maildir names with Dovecot's
 * S=/W= sizes and keyword letters parse as Dovecot writes them, flag
 * changes keep the base and unknown letters, and hostile names are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mailbox-flags.h"
#include "../../storage/maildir-filename.h"

static bool parse(const char *name, struct maildir_filename *fn)
{
	return maildir_filename_parse(name, strlen(name), fn);
}

static void test_parse_dovecot_names(void **state)
{
	struct maildir_filename fn;

	(void)state;
	/* Dovecot 2.3 after STORE +FLAGS (\Deleted \Answered foo bar ...). */
	assert_true(parse("1795663884.M698386P8153.vm,S=21,W=23:2,RSTcd", &fn));
	assert_int_equal(fn.base_len, strlen("1795663884.M698386P8153.vm,S=21,W=23"));
	assert_true(fn.has_psize && fn.has_vsize);
	assert_int_equal(fn.psize, 21);
	assert_int_equal(fn.vsize, 23);
	assert_true(fn.has_info);
	assert_int_equal(fn.flags, MAIL_ANSWERED | MAIL_SEEN | MAIL_DELETED);
	assert_int_equal(fn.keywords, (1U << 2) | (1U << 3));
	/* The documentation's example with Courier-style letters. */
	assert_true(parse("1491941793.M41850P8566V0000000000000015I0000000004F3030E_0.mx1."
			  "example.com,S=10956:2,STln",
			  &fn));
	assert_int_equal(fn.psize, 10956);
	assert_false(fn.has_vsize);
	assert_int_equal(fn.keywords, (1U << 11) | (1U << 13));
	/* A plain qmail name in new/. */
	assert_true(parse("1700000000.12345_1.host", &fn));
	assert_false(fn.has_psize || fn.has_info);
	assert_int_equal(fn.base_len, strlen("1700000000.12345_1.host"));
	/* Sizes that are not numbers or absurd are ignored, not trusted. */
	assert_true(parse("1.M1P1.h,S=12x,W=99999999999999999999:2,", &fn));
	assert_false(fn.has_psize || fn.has_vsize);
	assert_true(fn.has_info);
	assert_int_equal(fn.flags, 0);
}

static void test_invalid(void **state)
{
	struct maildir_filename fn;
	char big[300];

	(void)state;
	assert_false(parse("", &fn));
	assert_false(parse(".hidden", &fn));
	assert_false(parse(":2,S", &fn));
	assert_false(parse("a/b", &fn));
	assert_false(parse("a\nb", &fn));
	assert_false(maildir_filename_parse("a\0b", 3, &fn));
	memset(big, 'a', sizeof(big));
	assert_false(maildir_filename_parse(big, sizeof(big), &fn));
	assert_true(maildir_filename_parse(big, 255, &fn));
}

static void test_build(void **state)
{
	struct buf out = BUF_INIT(300);

	(void)state;
	assert_true(maildir_filename_build("1.M1P1.h,S=5,W=6", 16, MAIL_SEEN | MAIL_FLAGGED,
					   1U << 0, &out));
	assert_string_equal(buf_cstr(&out), "1.M1P1.h,S=5,W=6:2,FSa");
	buf_reset(&out);
	/* 'P' (passed) is no IMAP flag but is kept; old flags replaced. */
	assert_true(maildir_filename_build("1.M1P1.h:2,PRSb", 15, MAIL_DRAFT, 1U << 25, &out));
	assert_string_equal(buf_cstr(&out), "1.M1P1.h:2,DPz");
	buf_reset(&out);
	assert_true(maildir_filename_build("1.M1P1.h:2,S", 12, 0, 0, &out));
	assert_string_equal(buf_cstr(&out), "1.M1P1.h:2,");
	buf_reset(&out);
	assert_true(maildir_flags_to_letters(MAIL_FLAGS_MASK, MAIL_KEYWORDS_MASK, &out));
	assert_string_equal(buf_cstr(&out), "DFRSTabcdefghijklmnopqrstuvwxyz");
	buf_free(&out);
}

static void test_generate_and_compare(void **state)
{
	struct buf a = BUF_INIT(256), b = BUF_INIT(256);
	struct maildir_filename fn;

	(void)state;
	assert_true(maildir_filename_generate("mx1.example.com", &a));
	assert_true(maildir_filename_generate("evil/host:name with space", &b));
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&b), "evil\\057host\\072name_with_space"));
	assert_true(parse(buf_cstr(&b), &fn));
	assert_false(fn.has_info);
	assert_int_equal(maildir_filename_base_cmp("a.b:2,S", 7, "a.b", 3), 0);
	assert_int_equal(maildir_filename_base_cmp("a.b:2,S", 7, "a.b:2,RS", 8), 0);
	assert_true(maildir_filename_base_cmp("a.b", 3, "a.c", 3) < 0);
	assert_true(maildir_filename_base_cmp("a.b", 3, "a.bc", 4) < 0);
	/* New messages get UIDs by time, not by string order. */
	assert_true(maildir_filename_sort_cmp("999.a", 5, "1000.a", 6) < 0);
	assert_true(maildir_filename_sort_cmp("1000.b", 6, "1000.a", 6) > 0);
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dovecot_names),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_generate_and_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
