/*
 * Unit tests for storage/maildir-uidlist.c: Dovecot's dovecot-uidlist files
 * (samples as Dovecot 2.3 writes them and as its documentation shows them)
 * parse to the same UIDs, round-trip byte for byte, grow by appends that
 * are read incrementally, and survive partial lines and hostile input.
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

#include "../../storage/maildir-uidlist.h"

/* Written by Dovecot 2.3.19 for two APPENDed messages. */
static const char dovecot_sample[] = "3 V1795663884 N3 G5086a0290ca8076bd91f000083ecc375\n"
				     "1 :1795663884.M698386P8153.vm,S=21,W=23\n"
				     "2 :1795663884.M702612P8153.vm,S=3,W=4\n";

/* The lines shown in Dovecot's Maildir documentation. */
static const char doc_sample[] = "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"
				 "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
				 "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n";

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	str_copy(tmpdir, sizeof(tmpdir), "/tmp/roost-test-uidlist.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	fclose(f);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_dovecot_sample(void **state)
{
	struct maildir_uidlist ul;
	struct mailbox_error err;
	ssize_t i;

	(void)state;
	maildir_uidlist_init(&ul);
	assert_true(maildir_uidlist_parse(&ul, "t", dovecot_sample, strlen(dovecot_sample), &err));
	assert_int_equal(ul.version, 3);
	assert_int_equal(ul.uidvalidity, 1795663884U);
	assert_int_equal(ul.next_uid, 3);
	assert_string_equal(ul.guid, "5086a0290ca8076bd91f000083ecc375");
	assert_int_equal(ul.count, 2);
	assert_int_equal(ul.recs[0].uid, 1);
	assert_int_equal(ul.recs[1].uid, 2);
	/* Files are found by base, whatever flags they carry now. */
	i = maildir_uidlist_lookup(&ul, "1795663884.M702612P8153.vm,S=3,W=4:2,RSTcd",
				   strlen("1795663884.M702612P8153.vm,S=3,W=4:2,RSTcd"));
	assert_int_equal(i, 1);
	i = maildir_uidlist_lookup(&ul, "1795663884.M698386P8153.vm,S=21,W=23",
				   strlen("1795663884.M698386P8153.vm,S=21,W=23"));
	assert_int_equal(i, 0);
	assert_int_equal(maildir_uidlist_lookup(&ul, "nope", strlen("nope")), -1);
	assert_int_equal(maildir_uidlist_lookup_uid(&ul, 2), 1);
	assert_int_equal(maildir_uidlist_lookup_uid(&ul, 3), -1);
	assert_int_equal(ul.parsed_size, strlen(dovecot_sample));
	maildir_uidlist_deinit(&ul);
}

static void test_doc_sample_ext_fields(void **state)
{
	struct maildir_uidlist ul;
	struct mailbox_error err;
	struct buf out = BUF_INIT(4096);

	(void)state;
	maildir_uidlist_init(&ul);
	assert_true(maildir_uidlist_parse(&ul, "t", doc_sample, strlen(doc_sample), &err));
	assert_int_equal(ul.uidvalidity, 1275660208U);
	assert_int_equal(ul.next_uid, 25022);
	assert_int_equal(ul.count, 2);
	assert_int_equal(ul.recs[0].uid, 25006);
	assert_int_equal(ul.recs[1].uid, 25017);
	assert_true((ul.recs[1].flags & MAILDIR_UIDLIST_REC_VSIZE) != 0);
	assert_int_equal(ul.recs[1].vsize, 2481);
	assert_int_equal(maildir_uidlist_lookup(&ul, "1276533073.M242911P3632.kurkku:2,FS",
						strlen("1276533073.M242911P3632.kurkku:2,FS")),
			 1);
	/* Serialising gives back the same text. */
	assert_true(maildir_uidlist_format_header(&ul, &out));
	for (size_t i = 0; i < ul.count; i++)
		assert_true(maildir_uidlist_format_rec(&ul, &ul.recs[i], &out));
	assert_string_equal(buf_cstr(&out), doc_sample);
	buf_free(&out);
	maildir_uidlist_deinit(&ul);
}

static void test_round_trip_file(void **state)
{
	struct maildir_uidlist ul, ul2;
	struct maildir_uidlist_stat st, st2;
	struct mailbox_error err;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", tmpdir);
	write_file(path, dovecot_sample);
	maildir_uidlist_init(&ul);
	assert_int_equal(maildir_uidlist_read(&ul, path, NULL, &st, &err), 1);
	assert_true(maildir_uidlist_write(&ul, path, false, &st, &err));
	assert_string_equal(read_file(path), dovecot_sample);

	/* Append one, read again incrementally from the old state. */
	assert_int_equal(maildir_uidlist_add(&ul, "1795663999.M1P2.vm,S=5,W=6:2,S",
					     strlen("1795663999.M1P2.vm,S=5,W=6:2,S")),
			 3);
	assert_true(maildir_uidlist_append(&ul, path, 2, false, &st2, &err));
	maildir_uidlist_init(&ul2);
	assert_int_equal(maildir_uidlist_read(&ul2, path, NULL, &st, &err), 1);
	assert_int_equal(ul2.count, 3);
	assert_int_equal(ul2.next_uid, 4);
	/* The stored name is the base without the flags. */
	assert_int_equal(ul2.recs[2].name_len, strlen("1795663999.M1P2.vm,S=5,W=6"));
	maildir_uidlist_deinit(&ul2);
	maildir_uidlist_deinit(&ul);
}

static void test_incremental_tail(void **state)
{
	struct maildir_uidlist ul, other;
	struct maildir_uidlist_stat st, st2;
	struct mailbox_error err;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", tmpdir);
	write_file(path, dovecot_sample);
	maildir_uidlist_init(&ul);
	maildir_uidlist_init(&other);
	assert_int_equal(maildir_uidlist_read(&ul, path, NULL, &st, &err), 1);
	/* Another writer appends. */
	assert_int_equal(maildir_uidlist_read(&other, path, NULL, &st2, &err), 1);
	assert_int_equal(maildir_uidlist_add(&other, "100.M1P1.h", strlen("100.M1P1.h")), 3);
	assert_true(maildir_uidlist_append(&other, path, 2, false, &st2, &err));
	/* The first reader only parses the new tail. */
	assert_int_equal(maildir_uidlist_read(&ul, path, &st, &st, &err), 1);
	assert_int_equal(ul.count, 3);
	assert_int_equal(ul.recs[2].uid, 3);
	assert_int_equal(maildir_uidlist_lookup(&ul, "100.M1P1.h:2,S", strlen("100.M1P1.h:2,S")),
			 2);
	/* A rewrite (new inode, different content) is noticed. */
	maildir_uidlist_remove(&other, 0);
	assert_true(maildir_uidlist_write(&other, path, false, &st2, &err));
	assert_int_equal(maildir_uidlist_read(&ul, path, &st, &st, &err), 1);
	assert_int_equal(ul.count, 2);
	assert_int_equal(ul.recs[0].uid, 2);
	maildir_uidlist_deinit(&other);
	maildir_uidlist_deinit(&ul);
}

static void test_partial_last_line(void **state)
{
	struct maildir_uidlist ul;
	struct maildir_uidlist_stat st;
	struct mailbox_error err;
	char path[128], data[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", tmpdir);
	/* A writer crashed in the middle of "3 :...". */
	snprintf(data, sizeof(data), "%s3 :17956639", dovecot_sample);
	write_file(path, data);
	maildir_uidlist_init(&ul);
	assert_int_equal(maildir_uidlist_read(&ul, path, NULL, &st, &err), 1);
	assert_int_equal(ul.count, 2);
	assert_int_equal(ul.next_uid, 3);
	/* The next append cuts the garbage off first. */
	assert_int_equal(maildir_uidlist_add(&ul, "200.M1P1.h", strlen("200.M1P1.h")), 3);
	assert_true(maildir_uidlist_append(&ul, path, 2, false, &st, &err));
	snprintf(data, sizeof(data), "%s3 :200.M1P1.h\n", dovecot_sample);
	assert_string_equal(read_file(path), data);
	maildir_uidlist_deinit(&ul);
}

static void test_read_ends(void **state)
{
	struct maildir_uidlist ul;
	struct maildir_uidlist_stat st;
	struct mailbox_error err;
	char path[128], data[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", tmpdir);
	snprintf(data, sizeof(data), "%s7 :300.M1P1.h\n8 :30", dovecot_sample);
	write_file(path, data);
	maildir_uidlist_init(&ul);
	assert_int_equal(maildir_uidlist_read_ends(&ul, path, &st, &err), 1);
	assert_int_equal(ul.count, 0);
	assert_int_equal(ul.uidvalidity, 1795663884U);
	assert_int_equal(ul.next_uid, 8);
	assert_int_equal(ul.parsed_size, strlen(dovecot_sample) + strlen("7 :300.M1P1.h\n"));
	assert_int_equal(maildir_uidlist_add(&ul, "400.M1P1.h", strlen("400.M1P1.h")), 8);
	assert_true(maildir_uidlist_append(&ul, path, 0, false, &st, &err));
	snprintf(data, sizeof(data), "%s7 :300.M1P1.h\n8 :400.M1P1.h\n", dovecot_sample);
	assert_string_equal(read_file(path), data);
	maildir_uidlist_deinit(&ul);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	maildir_uidlist_init(&ul);
	assert_int_equal(maildir_uidlist_read_ends(&ul, path, &st, &err), 0);
	maildir_uidlist_deinit(&ul);
}

static void test_bad_lines(void **state)
{
	static const char data[] = "3 V5 N2 Gnothex X1\n"
				   "2 :b.M1P1.h\n"
				   "1 :a.M1P1.h\n"	  /* out of order */
				   "x :c\n"		  /* no uid */
				   "4 :../etc/passwd\n"	  /* a '/' can never be a file */
				   "5 S12 W14 P0 :e.M1\n" /* unknown field kept */
				   "6 :b.M1P1.h:2,S\n"	  /* same base again: later wins */
				   "0 :zero\n"
				   "7\n";
	struct maildir_uidlist ul;
	struct mailbox_error err;
	struct buf out = BUF_INIT(4096);

	(void)state;
	maildir_uidlist_init(&ul);
	assert_true(maildir_uidlist_parse(&ul, "t", data, strlen(data), &err));
	assert_int_equal(ul.uidvalidity, 5);
	assert_string_equal(ul.guid, "");
	assert_int_equal(ul.next_uid, 7);
	assert_int_equal(ul.bad_lines, 5);
	assert_int_equal(maildir_uidlist_lookup(&ul, "b.M1P1.h", strlen("b.M1P1.h")), 2);
	assert_int_equal(ul.recs[2].uid, 6);
	assert_int_equal(ul.recs[1].psize, 12);
	assert_int_equal(ul.recs[1].vsize, 14);
	assert_true(maildir_uidlist_format_rec(&ul, &ul.recs[1], &out));
	assert_string_equal(buf_cstr(&out), "5 S12 W14 P0 :e.M1\n");
	buf_reset(&out);
	assert_true(maildir_uidlist_format_header(&ul, &out));
	assert_string_equal(buf_cstr(&out), "3 V5 N7 X1\n");
	buf_free(&out);
	maildir_uidlist_deinit(&ul);
}

static void test_bad_headers(void **state)
{
	static const char *const bad[] = {"4 V1 N1\n",		 "3 N5\n",   "3 V0 N1\n", "3 Vx\n",
					  "3 V99999999999 N1\n", "garbage\n"};
	struct maildir_uidlist ul;
	struct mailbox_error err;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		maildir_uidlist_init(&ul);
		assert_false(maildir_uidlist_parse(&ul, "t", bad[i], strlen(bad[i]), &err));
		maildir_uidlist_deinit(&ul);
	}
	/* Courier-compatible version 1. */
	maildir_uidlist_init(&ul);
	assert_true(maildir_uidlist_parse(&ul, "t", "1 1234 10\n3 a.b.c:2,S\n", 22, &err));
	assert_int_equal(ul.uidvalidity, 1234);
	assert_int_equal(ul.next_uid, 10);
	assert_int_equal(ul.recs[0].uid, 3);
	assert_int_equal(maildir_uidlist_lookup(&ul, "a.b.c", strlen("a.b.c")), 0);
	maildir_uidlist_deinit(&ul);
}

static void test_many_records(void **state)
{
	struct maildir_uidlist ul;
	char name[64];

	(void)state;
	maildir_uidlist_init(&ul);
	maildir_uidlist_new_header(&ul, 42);
	assert_int_equal(strlen(ul.guid), 32);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "%d.M%dP1.host,S=%d", 1700000000 + i, i, i);
		assert_int_equal(maildir_uidlist_add(&ul, name, strlen(name)), (uint32_t)i + 1);
	}
	for (int i = 0; i < 20000; i += 997) {
		snprintf(name, sizeof(name), "%d.M%dP1.host,S=%d:2,FS", 1700000000 + i, i, i);
		assert_int_equal(maildir_uidlist_lookup(&ul, name, strlen(name)), i);
		assert_int_equal(maildir_uidlist_lookup_uid(&ul, (uint32_t)i + 1), i);
	}
	maildir_uidlist_remove(&ul, 5);
	assert_int_equal(maildir_uidlist_lookup_uid(&ul, 6), -1);
	assert_int_equal(maildir_uidlist_lookup_uid(&ul, 7), 6);
	assert_false(maildir_uidlist_add_uid(&ul, 5, "x", 1));
	assert_true(maildir_uidlist_add_uid(&ul, 30000, "x", 1));
	assert_int_equal(ul.next_uid, 30001);
	maildir_uidlist_deinit(&ul);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_sample),
		cmocka_unit_test(test_doc_sample_ext_fields),
		cmocka_unit_test(test_round_trip_file),
		cmocka_unit_test(test_incremental_tail),
		cmocka_unit_test(test_partial_last_line),
		cmocka_unit_test(test_read_ends),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_many_records),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
