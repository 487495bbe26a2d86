/*
 * Unit tests for storage/index-cache.c: values added for a message are
 * found again by field, newer values shadow older ones, chains written by
 * separate flushes link up, and damaged files read as "not cached".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../storage/index-cache.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	str_copy(dir, sizeof(dir), "/tmp/roost-test-cache.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/roost.index.cache", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t head_of(const struct index_cache_head *heads, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++) {
		if (heads[i].uid == uid)
			return heads[i].offset;
	}
	return 0;
}

static void expect(struct index_cache *cache, uint64_t head, uint32_t uid, uint16_t field,
		   const char *value)
{
	const uint8_t *data;
	size_t len;

	if (value == NULL) {
		assert_false(index_cache_lookup(cache, head, uid, field, &data, &len));
		return;
	}
	assert_true(index_cache_lookup(cache, head, uid, field, &data, &len));
	assert_int_equal(len, strlen(value));
	assert_memory_equal(data, value, len);
}

static void test_add_lookup(void **state)
{
	struct index_cache *cache;
	struct index_cache_head *heads;
	struct mailbox_error err;
	uint64_t id, h1, h2, h3;
	size_t n;

	(void)state;
	assert_true(index_cache_create(path, 77, &id, &err));
	assert_int_equal(index_cache_open(path, id + 1, 77, &cache, &err), 0);
	assert_int_equal(index_cache_open(path, id, 78, &cache, &err), 0);
	assert_int_equal(index_cache_open(path, id, 77, &cache, &err), 1);
	assert_int_equal(index_cache_file_id(cache), id);
	assert_true(index_cache_add(cache, 1, 1, 0, "(envelope 1)", 12));
	assert_true(index_cache_add(cache, 1, 2, 0, "(body 1)", 8));
	assert_true(index_cache_add(cache, 2, 1, 0, "(envelope 2)", 12));
	assert_true(index_cache_add(cache, 3, 7, 0, "", 0));
	assert_true(index_cache_pending_size(cache) > 0);
	assert_true(index_cache_flush(cache, &heads, &n, &err));
	assert_int_equal(n, 3);
	h1 = head_of(heads, n, 1);
	h2 = head_of(heads, n, 2);
	h3 = head_of(heads, n, 3);
	free(heads);
	assert_int_equal(index_cache_pending_size(cache), 0);
	expect(cache, h1, 1, 1, "(envelope 1)");
	expect(cache, h1, 1, 2, "(body 1)");
	expect(cache, h2, 2, 1, "(envelope 2)");
	expect(cache, h2, 2, 2, NULL);
	expect(cache, h3, 3, 7, "");
	/* A head used with the wrong UID is a broken chain, not data. */
	expect(cache, h1, 2, 1, NULL);
	expect(cache, h1 + 8, 1, 1, NULL);
	expect(cache, 3, 1, 1, NULL);
	/* A later flush shadows the old value and keeps the rest. */
	assert_true(index_cache_add(cache, 1, 1, h1, "(envelope 1b)", 13));
	assert_true(index_cache_flush(cache, &heads, &n, &err));
	assert_int_equal(n, 1);
	h1 = head_of(heads, n, 1);
	free(heads);
	expect(cache, h1, 1, 1, "(envelope 1b)");
	expect(cache, h1, 1, 2, "(body 1)");
	assert_false(index_cache_add(cache, 1, 1, h1, "x", INDEX_CACHE_VALUE_MAX + 1));
	index_cache_close(&cache);
	assert_null(cache);
}

static void test_damage(void **state)
{
	struct index_cache *cache;
	struct index_cache_head *heads;
	struct mailbox_error err;
	uint64_t id, h;
	size_t n;
	int fd;

	(void)state;
	assert_true(index_cache_create(path, 1, &id, &err));
	assert_int_equal(index_cache_open(path, id, 1, &cache, &err), 1);
	assert_true(index_cache_add(cache, 5, 1, 0, "value-five", 10));
	assert_true(index_cache_flush(cache, &heads, &n, &err));
	h = heads[0].offset;
	free(heads);
	expect(cache, h, 5, 1, "value-five");
	index_cache_close(&cache);
	/* Flip one byte of the value. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, (off_t)(h + sizeof(struct index_cache_rec) + 2)), 1);
	close(fd);
	assert_int_equal(index_cache_open(path, id, 1, &cache, &err), 1);
	expect(cache, h, 5, 1, NULL);
	index_cache_close(&cache);
	/* Truncate the file under the reader. */
	assert_int_equal(index_cache_open(path, id, 1, &cache, &err), 1);
	assert_int_equal(truncate(path, (off_t)h + 4), 0);
	expect(cache, h, 5, 1, NULL);
	index_cache_close(&cache);
	/* A file that is not a cache at all. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a cache file at all, really", 31), 31);
	close(fd);
	assert_int_equal(index_cache_open(path, id, 1, &cache, &err), 0);
}

static void test_many(void **state)
{
	struct index_cache *cache;
	struct index_cache_head *heads;
	struct mailbox_error err;
	uint64_t id, *h = calloc(5001, sizeof(uint64_t));
	char value[64];
	size_t n;

	(void)state;
	assert_true(index_cache_create(path, 9, &id, &err));
	assert_int_equal(index_cache_open(path, id, 9, &cache, &err), 1);
	for (uint32_t uid = 1; uid <= 5000; uid++) {
		snprintf(value, sizeof(value), "envelope of %u", uid);
		assert_true(index_cache_add(cache, uid, 1, 0, value, strlen(value)));
		snprintf(value, sizeof(value), "bodystructure of %u", uid);
		assert_true(index_cache_add(cache, uid, 2, 0, value, strlen(value)));
	}
	assert_true(index_cache_flush(cache, &heads, &n, &err));
	assert_int_equal(n, 5000);
	for (size_t i = 0; i < n; i++)
		h[heads[i].uid] = heads[i].offset;
	free(heads);
	for (uint32_t uid = 1; uid <= 5000; uid++) {
		snprintf(value, sizeof(value), "envelope of %u", uid);
		expect(cache, h[uid], uid, 1, value);
		snprintf(value, sizeof(value), "bodystructure of %u", uid);
		expect(cache, h[uid], uid, 2, value);
	}
	index_cache_close(&cache);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_lookup),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
