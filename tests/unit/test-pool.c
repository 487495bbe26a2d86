/*
 * Unit tests for lib/pool.c: the byte limit is enforced, memory is zeroed and
 * aligned, and clearing a pool makes its budget available again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"

static void test_limit(void **state)
{
	struct pool *pool = pool_create(1000);
	char *p;

	(void)state;
	p = p_malloc(pool, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	assert_null(p_malloc(pool, 1000));
	assert_non_null(p_strdup(pool, "hello"));
	assert_string_equal(p_strdup_printf(pool, "%s-%d", "x", 42), "x-42");
	pool_clear(pool);
	assert_int_equal(pool_used(pool), 0);
	assert_non_null(p_malloc(pool, 900));
	pool_destroy(&pool);
	assert_null(pool);
}

static void test_many_blocks(void **state)
{
	struct pool *pool = pool_create(10 * 1024 * 1024);
	char *prev = NULL;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		char *p = p_strdup_printf(pool, "item %d", i);

		assert_non_null(p);
		if (prev != NULL)
			assert_true(strncmp(prev, "item ", 5) == 0);
		prev = p;
	}
	char *big = p_realloc(pool, prev, strlen(prev) + 1, 100000);
	assert_non_null(big);
	assert_string_equal(big, "item 9999");
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_many_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
