/*
 * The duplicate database of roost-lda's Sieve: fixed-size records of
 * {kind, expiry, SHA-256 of the id} after a magic line, rewritten in
 * place under flock(). Runs in the sandboxed delivery as the user; the
 * file may have been damaged or edited, so its size and records are
 * checked and a bad file counts as empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dupdb.h"
#include "log.h"
#include "sha256.h"
#include "xalloc.h"

#define DUPDB_MAGIC	  "RDUPDB1\n"
#define DUPDB_MAGIC_SIZE  8
#define DUPDB_RECORD_SIZE (8 + 8 + SHA256_DIGEST_SIZE)

struct dup_record {
	uint8_t kind;
	time_t expires;
	uint8_t digest[SHA256_DIGEST_SIZE];
};

struct dup_set {
	struct dup_record *recs;
	size_t count, alloc;
};

struct lda_dupdb {
	char *path;
	bool loaded;
	bool failed;
	struct dup_set file;	/* as last read */
	struct dup_set pending; /* marked, not written yet */
};

static void set_add(struct dup_set *s, const struct dup_record *r)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->recs[i].kind == r->kind &&
		    memcmp(s->recs[i].digest, r->digest, SHA256_DIGEST_SIZE) == 0) {
			s->recs[i].expires = r->expires;
			return;
		}
	}
	if (s->count == s->alloc) {
		s->alloc = s->alloc == 0 ? 16 : s->alloc * 2;
		s->recs = i_realloc(s->recs, s->alloc * sizeof(*s->recs));
	}
	s->recs[s->count++] = *r;
}

static void set_free(struct dup_set *s)
{
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

/* Parses the file's bytes; false when they are not a database. */
static bool parse(const uint8_t *data, size_t size, struct dup_set *out)
{
	struct cursor c;

	if (size == 0)
		return true;
	if (size < DUPDB_MAGIC_SIZE || memcmp(data, DUPDB_MAGIC, DUPDB_MAGIC_SIZE) != 0 ||
	    (size - DUPDB_MAGIC_SIZE) % DUPDB_RECORD_SIZE != 0)
		return false;
	cursor_init(&c, data + DUPDB_MAGIC_SIZE, size - DUPDB_MAGIC_SIZE);
	while (cursor_left(&c) > 0) {
		struct dup_record r;
		const uint8_t *digest;
		uint64_t expires;

		(void)cursor_get_u8(&c, &r.kind);
		(void)cursor_skip(&c, 7);
		(void)cursor_get_u64(&c, &expires);
		(void)cursor_get_bytes(&c, SHA256_DIGEST_SIZE, &digest);
		memcpy(r.digest, digest, SHA256_DIGEST_SIZE);
		r.expires = expires > (uint64_t)INT64_MAX ? (time_t)INT64_MAX : (time_t)expires;
		set_add(out, &r);
	}
	return true;
}

/* Reads the whole open file into out (bounded by the record limit). */
static bool read_fd(int fd, struct dup_set *out, const char **error_r)
{
	size_t max = DUPDB_MAGIC_SIZE + (size_t)LDA_DUPDB_MAX_RECORDS * DUPDB_RECORD_SIZE;
	struct stat st;
	uint8_t *data;
	size_t got = 0;
	bool ok;

	if (fstat(fd, &st) < 0) {
		*error_r = strerror(errno);
		return false;
	}
	if ((uint64_t)st.st_size > max) {
		log_warning("%s is larger than %zu bytes: ignoring its contents",
			    "duplicate database", max);
		return true;
	}
	data = i_malloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, data + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			free(data);
			return false;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ok = parse(data, got, out);
	free(data);
	if (!ok) {
		log_warning("duplicate database is damaged: starting a new one");
		set_free(out);
	}
	return true;
}

static bool lock_fd(int fd, int how)
{
	for (unsigned int waited = 0; waited < LDA_DUPDB_LOCK_TIMEOUT_SECS * 100; waited++) {
		struct timespec ts = {0, 10 * 1000000};

		if (flock(fd, how | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		(void)nanosleep(&ts, NULL);
	}
	errno = ETIMEDOUT;
	return false;
}

static void load(struct lda_dupdb *db)
{
	const char *error;
	int fd;

	if (db->loaded)
		return;
	db->loaded = true;
	fd = open(db->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT) {
			log_error("open(%s) failed: %m", db->path);
			db->failed = true;
		}
		return;
	}
	if (!lock_fd(fd, LOCK_SH)) {
		log_error("flock(%s) failed: %m", db->path);
		db->failed = true;
	} else if (!read_fd(fd, &db->file, &error)) {
		log_error("read(%s) failed: %s", db->path, error);
		db->failed = true;
	}
	close(fd);
}

struct lda_dupdb *lda_dupdb_open(const char *path)
{
	struct lda_dupdb *db = i_calloc(1, sizeof(*db));

	db->path = i_strdup(path);
	return db;
}

void lda_dupdb_free(struct lda_dupdb **_db)
{
	struct lda_dupdb *db = *_db;

	if (db == NULL)
		return;
	set_free(&db->file);
	set_free(&db->pending);
	free(db->path);
	free(db);
	*_db = NULL;
}

static void make_record(struct dup_record *r, unsigned int kind, const void *id, size_t id_len,
			time_t expires)
{
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->expires = expires;
	sha256_digest(id, id_len, r->digest);
}

static bool set_has(const struct dup_set *s, const struct dup_record *r, time_t now)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->recs[i].kind == r->kind && s->recs[i].expires > now &&
		    memcmp(s->recs[i].digest, r->digest, SHA256_DIGEST_SIZE) == 0)
			return true;
	}
	return false;
}

int lda_dupdb_check(struct lda_dupdb *db, unsigned int kind, const void *id, size_t id_len,
		    time_t now)
{
	struct dup_record r;

	load(db);
	make_record(&r, kind, id, id_len, 0);
	if (set_has(&db->pending, &r, now) || set_has(&db->file, &r, now))
		return 1;
	return db->failed ? -1 : 0;
}

void lda_dupdb_mark(struct lda_dupdb *db, unsigned int kind, const void *id, size_t id_len,
		    time_t expires)
{
	struct dup_record r;

	make_record(&r, kind, id, id_len, expires);
	set_add(&db->pending, &r);
}

static int cmp_expiry_desc(const void *a, const void *b)
{
	const struct dup_record *x = a, *y = b;

	return x->expires < y->expires ? 1 : x->expires > y->expires ? -1 : 0;
}

bool lda_dupdb_flush(struct lda_dupdb *db, time_t now, const char **error_r)
{
	struct dup_set merged = {0};
	struct buf out;
	size_t keep;
	bool ok;
	int fd;

	if (db->pending.count == 0)
		return true;
	fd = open(db->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*error_r = strerror(errno);
		return false;
	}
	if (!lock_fd(fd, LOCK_EX)) {
		*error_r = strerror(errno);
		close(fd);
		return false;
	}
	if (!read_fd(fd, &merged, error_r)) {
		close(fd);
		set_free(&merged);
		return false;
	}
	for (size_t i = 0; i < db->pending.count; i++)
		set_add(&merged, &db->pending.recs[i]);
	/* The newest entries win when the file is full. */
	qsort(merged.recs, merged.count, sizeof(merged.recs[0]), cmp_expiry_desc);
	keep = merged.count;
	while (keep > 0 && merged.recs[keep - 1].expires <= now)
		keep--;
	if (keep > LDA_DUPDB_MAX_RECORDS)
		keep = LDA_DUPDB_MAX_RECORDS;
	buf_init(&out, DUPDB_MAGIC_SIZE + keep * DUPDB_RECORD_SIZE);
	(void)buf_append(&out, DUPDB_MAGIC, DUPDB_MAGIC_SIZE);
	for (size_t i = 0; i < keep; i++) {
		(void)buf_put_u8(&out, merged.recs[i].kind);
		for (unsigned int j = 0; j < 7; j++)
			(void)buf_put_u8(&out, 0);
		(void)buf_put_u64(&out, (uint64_t)merged.recs[i].expires);
		(void)buf_append(&out, merged.recs[i].digest, SHA256_DIGEST_SIZE);
	}
	ok = pwrite(fd, buf_data(&out), buf_len(&out), 0) == (ssize_t)buf_len(&out) &&
	     ftruncate(fd, (off_t)buf_len(&out)) == 0;
	if (!ok)
		*error_r = strerror(errno);
	close(fd);
	buf_free(&out);
	if (ok) {
		set_free(&db->file);
		db->file = merged;
		db->loaded = true;
		db->failed = false;
		set_free(&db->pending);
	} else {
		set_free(&merged);
	}
	return ok;
}
