/*
 * Unit tests for storage/index-file.c: an index written and read back is
 * identical, and every kind of damage (flipped bytes anywhere, truncation,
 * wrong version, inconsistent records) is detected rather than trusted.
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

#include "buf.h"
#include "../../storage/index-file.h"
#include "../../storage/mailbox-flags.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	str_copy(dir, sizeof(dir), "/tmp/roost-test-index.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/roost.index", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void build(struct index_view *v, unsigned int n)
{
	char name[64];

	index_view_init(v);
	v->hdr.uidvalidity = 1234;
	v->hdr.next_uid = n * 2 + 1;
	v->hdr.highest_modseq = 100;
	for (unsigned int i = 0; i < n; i++) {
		struct mail_record *rec = index_view_append(v);

		rec->uid = i * 2 + 1;
		rec->flags = i % 2 == 0 ? MAIL_SEEN : MAIL_FLAGGED;
		rec->keywords = i % 3;
		rec->psize = 1000 + i;
		rec->vsize = 1010 + i;
		rec->modseq = 50 + i % 50;
		snprintf(name, sizeof(name), "%u.M%uP1.host,S=%u:2,S", 1700000000 + i, i, 1000 + i);
		assert_true(index_view_set_name(v, rec, name, strlen(name)));
	}
	if (n > 1)
		index_view_log_expunge(v, 2, 99);
}

static void save_bytes(const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static uint8_t *load_bytes(size_t *len_r)
{
	FILE *f = fopen(path, "r");
	uint8_t *data = malloc(4 * 1024 * 1024);

	assert_non_null(f);
	*len_r = fread(data, 1, 4 * 1024 * 1024, f);
	fclose(f);
	return data;
}

static void test_round_trip(void **state)
{
	struct index_view v, r;
	struct index_file_stat st, st2;
	struct mailbox_error err;

	(void)state;
	build(&v, 1000);
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st2, &err), 1);
	assert_true(index_file_stat_equal(&st, &st2));
	assert_int_equal(r.count, 1000);
	assert_int_equal(r.hdr.uidvalidity, 1234);
	assert_int_equal(r.hdr.total_psize, 1000 * 1000 + 999 * 1000 / 2);
	assert_int_equal(r.expunge_count, 1);
	for (size_t i = 0; i < r.count; i++) {
		assert_int_equal(r.recs[i].uid, v.recs[i].uid);
		assert_int_equal(r.recs[i].name_len, v.recs[i].name_len);
		assert_memory_equal(index_view_name(&r, &r.recs[i]),
				    index_view_name(&v, &v.recs[i]), r.recs[i].name_len);
	}
	assert_int_equal(index_view_find(&r, 1001), 500);
	assert_int_equal(index_view_find(&r, 1002), -1);
	{
		struct index_header hdr;

		assert_int_equal(index_file_read_header(path, &hdr, &err), 1);
		assert_int_equal(hdr.messages_count, 1000);
	}
	index_view_deinit(&r);
	index_view_deinit(&v);
	/* An empty index is fine too. */
	build(&v, 0);
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st2, &err), 1);
	assert_int_equal(r.count, 0);
	index_view_deinit(&r);
	index_view_deinit(&v);
	snprintf(path, sizeof(path), "%s/missing", dir);
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st2, &err), 0);
	index_view_deinit(&r);
	snprintf(path, sizeof(path), "%s/roost.index", dir);
}

/* Versions take turns between two inodes (roost.index and its .tmp), yet
   each has an identity of its own (inode, size, mtime) even when written
   at once with the same size; a shorter version leaves no stale tail. */
static void test_versions_alternate(void **state)
{
	struct index_view v, r;
	struct index_file_stat st[6], cur;
	struct mailbox_error err;

	(void)state;
	build(&v, 100);
	for (int i = 0; i < 6; i++) {
		assert_true(index_file_write(&v, path, &st[i], &err));
		assert_true(index_file_stat(path, &cur));
		assert_true(index_file_stat_equal(&cur, &st[i]));
		for (int j = 0; j < i; j++)
			assert_false(index_file_stat_equal(&st[i], &st[j]));
		if (i >= 2)
			assert_true(st[i].ino == st[i - 2].ino);
	}
	index_view_deinit(&v);
	build(&v, 10);
	assert_true(index_file_write(&v, path, &st[0], &err));
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st[1], &err), 1);
	assert_int_equal(r.count, 10);
	index_view_deinit(&r);
	index_view_deinit(&v);
}

static void test_every_flipped_byte_detected(void **state)
{
	struct index_view v, r;
	struct index_file_stat st;
	struct mailbox_error err;
	uint8_t *data;
	size_t len;

	(void)state;
	build(&v, 20);
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_deinit(&v);
	data = load_bytes(&len);
	for (size_t i = 0; i < len; i++) {
		data[i] ^= 0x5a;
		index_view_init(&r);
		if (index_file_parse(&r, data, len, &err))
			fail_msg("flipped byte %zu not detected", i);
		assert_int_equal(r.count, 0);
		index_view_deinit(&r);
		data[i] ^= 0x5a;
	}
	for (size_t cut = 0; cut < len; cut += 7) {
		index_view_init(&r);
		assert_false(index_file_parse(&r, data, cut, &err));
		index_view_deinit(&r);
	}
	free(data);
}

static void test_consistent_checksum_but_bad_records(void **state)
{
	struct index_view v, r;
	struct index_file_stat st;
	struct mailbox_error err;

	(void)state;
	/* A writer (buggy or hostile) with valid checksums but nonsense. */
	build(&v, 3);
	v.recs[1].uid = v.recs[0].uid;
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st, &err), -1);
	assert_non_null(strstr(err.text, "inconsistent"));
	index_view_deinit(&r);
	index_view_deinit(&v);

	build(&v, 3);
	v.recs[2].modseq = 1000;
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st, &err), -1);
	index_view_deinit(&r);
	index_view_deinit(&v);

	build(&v, 3);
	v.recs[0].flags |= 0x8000;
	assert_true(index_file_write(&v, path, &st, &err));
	index_view_init(&r);
	/* Session-only bits are dropped on write, unknown ones too. */
	assert_int_equal(index_file_read(&r, path, &st, &err), 1);
	index_view_deinit(&r);
	index_view_deinit(&v);

	save_bytes("ROOSTIX1garbage", 15);
	index_view_init(&r);
	assert_int_equal(index_file_read(&r, path, &st, &err), -1);
	index_view_deinit(&r);
}

static void test_expunge_log_limit(void **state)
{
	struct index_view v;

	(void)state;
	index_view_init(&v);
	for (uint32_t i = 1; i <= INDEX_EXPUNGES_MAX + 10; i++)
		index_view_log_expunge(&v, i, i);
	assert_true(v.expunge_count <= INDEX_EXPUNGES_MAX);
	assert_true(v.hdr.expunge_log_min_modseq > 0);
	assert_int_equal(v.expunges[v.expunge_count - 1].uid, INDEX_EXPUNGES_MAX + 10);
	assert_true(v.expunges[0].modseq > v.hdr.expunge_log_min_modseq);
	index_view_deinit(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_versions_alternate),
		cmocka_unit_test(test_every_flipped_byte_detected),
		cmocka_unit_test(test_consistent_checksum_but_bad_records),
		cmocka_unit_test(test_expunge_log_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
