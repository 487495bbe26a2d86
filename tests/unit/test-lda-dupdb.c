/*
 * Unit tests for roost-lda's duplicate database (lda/dupdb.c) and the
 * SHA-256 it stores ids as (lda/sha256.c, checked against the FIPS 180-2
 * examples): marks survive a reopen only once flushed, expire, are kept
 * apart by kind, and a damaged or foreign file counts as empty.
 */
#include <fcntl.h>
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

#include "../../lda/dupdb.h"
#include "../../lda/sha256.h"

static void assert_digest(const void *data, size_t len, const char *hex)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char out[2 * SHA256_DIGEST_SIZE + 1];

	sha256_digest(data, len, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(out, hex);
}

static void test_sha256_vectors(void **state)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE], a[1001];
	char out[2 * SHA256_DIGEST_SIZE + 1];

	(void)state;
	assert_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_digest(two_blocks, strlen(two_blocks),
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	assert_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* One million 'a', fed in pieces that do not line up with blocks. */
	memset(a, 'a', sizeof(a));
	sha256_init(&ctx);
	for (int i = 0; i < 1000; i++)
		sha256_update(&ctx, a, i % 2 == 0 ? 999 : 1001);
	sha256_final(&ctx, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(out,
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static char dir[] = "/tmp/roost-dupdb-XXXXXX";
static char path[256];

static void test_mark_flush_reopen(void **state)
{
	struct lda_dupdb *db = lda_dupdb_open(path);
	const char *error;
	time_t now = 1700000000;

	(void)state;
	assert_int_equal(lda_dupdb_check(db, 1, "sender@example.org", 18, now), 0);
	lda_dupdb_mark(db, 1, "sender@example.org", 18, now + 86400);
	/* Pending marks count at once. */
	assert_int_equal(lda_dupdb_check(db, 1, "sender@example.org", 18, now), 1);
	/* Another kind with the same id is another entry. */
	assert_int_equal(lda_dupdb_check(db, 2, "sender@example.org", 18, now), 0);
	lda_dupdb_free(&db);
	assert_null(db);
	/* Not flushed: forgotten. */
	db = lda_dupdb_open(path);
	assert_int_equal(lda_dupdb_check(db, 1, "sender@example.org", 18, now), 0);
	lda_dupdb_mark(db, 1, "sender@example.org", 18, now + 86400);
	lda_dupdb_mark(db, 3, "short-lived", 11, now + 10);
	assert_true(lda_dupdb_flush(db, now, &error));
	lda_dupdb_free(&db);

	db = lda_dupdb_open(path);
	assert_int_equal(lda_dupdb_check(db, 1, "sender@example.org", 18, now + 3600), 1);
	assert_int_equal(lda_dupdb_check(db, 3, "short-lived", 11, now + 5), 1);
	/* Expired entries are not seen, and are dropped at the next write. */
	assert_int_equal(lda_dupdb_check(db, 1, "sender@example.org", 18, now + 86400), 0);
	assert_int_equal(lda_dupdb_check(db, 3, "short-lived", 11, now + 11), 0);
	lda_dupdb_mark(db, 2, "other", 5, now + 100);
	assert_true(lda_dupdb_flush(db, now + 20, &error));
	lda_dupdb_free(&db);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		/* Magic and two records of 48 bytes. */
		assert_int_equal(st.st_size, 8 + 2 * 48);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

static void test_damaged_file(void **state)
{
	struct lda_dupdb *db;
	const char *error;
	int fd;

	(void)state;
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "RDUPDB1\nshort", 13), 13);
	close(fd);
	db = lda_dupdb_open(path);
	assert_int_equal(lda_dupdb_check(db, 1, "x", 1, 100), 0);
	lda_dupdb_mark(db, 1, "x", 1, 200);
	assert_true(lda_dupdb_flush(db, 100, &error));
	lda_dupdb_free(&db);
	db = lda_dupdb_open(path);
	assert_int_equal(lda_dupdb_check(db, 1, "x", 1, 150), 1);
	lda_dupdb_free(&db);
	/* A file that cannot be read is a failure, not "not seen". */
	(void)unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	db = lda_dupdb_open(path);
	assert_int_equal(lda_dupdb_check(db, 1, "x", 1, 150), -1);
	lda_dupdb_mark(db, 1, "x", 1, 200);
	assert_false(lda_dupdb_flush(db, 100, &error));
	lda_dupdb_free(&db);
	assert_int_equal(rmdir(path), 0);
}

static void test_record_limit(void **state)
{
	struct lda_dupdb *db = lda_dupdb_open(path);
	const char *error;
	struct stat st;

	(void)state;
	(void)unlink(path);
	for (unsigned int i = 0; i < LDA_DUPDB_MAX_RECORDS + 5; i++)
		lda_dupdb_mark(db, 1, &i, sizeof(i), 1000 + i);
	assert_true(lda_dupdb_flush(db, 0, &error));
	lda_dupdb_free(&db);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 8 + LDA_DUPDB_MAX_RECORDS * 48);
	/* The entries closest to expiry went first. */
	db = lda_dupdb_open(path);
	{
		unsigned int first = 0, last = LDA_DUPDB_MAX_RECORDS + 4;

		assert_int_equal(lda_dupdb_check(db, 1, &first, sizeof(first), 0), 0);
		assert_int_equal(lda_dupdb_check(db, 1, &last, sizeof(last), 0), 1);
	}
	lda_dupdb_free(&db);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, LDA_DUPDB_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_mark_flush_reopen),
		cmocka_unit_test(test_damaged_file),
		cmocka_unit_test(test_record_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
