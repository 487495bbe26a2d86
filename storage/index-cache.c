/*
 * The per-mailbox cache file (see index-cache.h). Runs in the mail
 * processes as the mail user. Reads go through pread() into a window
 * buffer rather than a mapping, so a file cut short by another process
 * reads as "not cached" instead of faulting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "index-cache.h"
#include "xalloc.h"

#define WINDOW_SIZE (256U * 1024)

struct pending {
	uint32_t uid;
	size_t rel_off; /* record position in the pending buffer */
	bool prev_pending;
	uint64_t prev; /* absolute offset, or index into the pending array */
};

struct index_cache {
	int fd;
	char *path;
	uint64_t file_id;
	uint32_t uidvalidity;

	uint8_t *window;
	uint64_t window_off;
	size_t window_len;
	uint8_t *big; /* a value larger than the window */

	struct buf pending_data;
	struct pending *pending;
	size_t pending_count;
	size_t pending_alloc;
	/* uid -> latest pending index + 1, open addressing */
	uint32_t *pending_hash_uid;
	uint32_t *pending_hash_idx;
	size_t pending_hash_size;
};

static uint32_t cache_header_crc(const struct index_cache_header *hdr)
{
	struct index_cache_header tmp = *hdr;

	tmp.header_crc = 0;
	return (uint32_t)crc32(0, (const Bytef *)&tmp, sizeof(tmp));
}

static bool read_full(int fd, void *p, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

int index_cache_open(const char *path, uint64_t file_id, uint32_t uidvalidity,
		     struct index_cache **cache_r, struct mailbox_error *err)
{
	struct index_cache_header hdr;
	struct index_cache *cache;
	struct stat st;
	int fd;

	*cache_r = NULL;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !read_full(fd, &hdr, sizeof(hdr), 0) ||
	    memcmp(hdr.magic, INDEX_CACHE_MAGIC, sizeof(hdr.magic)) != 0 ||
	    hdr.version != INDEX_CACHE_VERSION || hdr.header_size != sizeof(hdr) ||
	    hdr.header_crc != cache_header_crc(&hdr) || hdr.file_id != file_id ||
	    hdr.uidvalidity != uidvalidity) {
		close(fd);
		return 0;
	}
	cache = i_calloc(1, sizeof(*cache));
	cache->fd = fd;
	cache->path = i_strdup(path);
	cache->file_id = file_id;
	cache->uidvalidity = uidvalidity;
	cache->window = i_malloc(WINDOW_SIZE);
	buf_init(&cache->pending_data, INDEX_CACHE_FILE_MAX);
	*cache_r = cache;
	return 1;
}

bool index_cache_create(const char *path, uint32_t uidvalidity, uint64_t *file_id_r,
			struct mailbox_error *err)
{
	struct index_cache_header hdr;
	struct buf tmp = BUF_INIT(4096);
	bool ok = false;
	int fd;

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, INDEX_CACHE_MAGIC, sizeof(hdr.magic));
	hdr.version = INDEX_CACHE_VERSION;
	hdr.header_size = sizeof(hdr);
	if (getrandom(&hdr.file_id, sizeof(hdr.file_id), 0) != (ssize_t)sizeof(hdr.file_id))
		hdr.file_id = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 40);
	if (hdr.file_id == 0)
		hdr.file_id = 1;
	hdr.uidvalidity = uidvalidity;
	hdr.header_crc = cache_header_crc(&hdr);
	if (!buf_printf(&tmp, "%s.tmp", path)) {
		buf_free(&tmp);
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: path too long", path);
	}
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	if (write(fd, &hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		mailbox_error_errno(err, errno != 0 ? errno : ENOSPC, "write(%s) failed",
				    buf_cstr(&tmp));
		close(fd);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	close(fd);
	if (rename(buf_cstr(&tmp), path) < 0) {
		mailbox_error_errno(err, errno, "rename(%s) failed", path);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	*file_id_r = hdr.file_id;
	ok = true;
out:
	buf_free(&tmp);
	return ok;
}

void index_cache_drop_pending(struct index_cache *cache)
{
	buf_reset(&cache->pending_data);
	cache->pending_count = 0;
	if (cache->pending_hash_size > 0) {
		memset(cache->pending_hash_uid, 0, cache->pending_hash_size * sizeof(uint32_t));
		memset(cache->pending_hash_idx, 0, cache->pending_hash_size * sizeof(uint32_t));
	}
}

void index_cache_close(struct index_cache **cache)
{
	if (*cache == NULL)
		return;
	close((*cache)->fd);
	free((*cache)->path);
	free((*cache)->window);
	free((*cache)->big);
	buf_free(&(*cache)->pending_data);
	free((*cache)->pending);
	free((*cache)->pending_hash_uid);
	free((*cache)->pending_hash_idx);
	I_FREE(*cache);
}

uint64_t index_cache_file_id(const struct index_cache *cache)
{
	return cache->file_id;
}

uint64_t index_cache_file_size(struct index_cache *cache)
{
	struct stat st;

	return fstat(cache->fd, &st) < 0 ? 0 : (uint64_t)st.st_size;
}

/* Makes [off, off+len) available; returns a pointer or NULL past EOF. */
static const uint8_t *cache_read(struct index_cache *cache, uint64_t off, size_t len)
{
	ssize_t n;

	if (off >= cache->window_off && off - cache->window_off <= cache->window_len &&
	    len <= cache->window_len - (off - cache->window_off))
		return cache->window + (off - cache->window_off);
	if (len > WINDOW_SIZE) {
		free(cache->big);
		cache->big = i_malloc(len);
		return read_full(cache->fd, cache->big, len, off) ? cache->big : NULL;
	}
	n = pread(cache->fd, cache->window, WINDOW_SIZE, (off_t)off);
	if (n < 0)
		n = 0;
	cache->window_off = off;
	cache->window_len = (size_t)n;
	return len <= (size_t)n ? cache->window : NULL;
}

static uint32_t rec_crc(const struct index_cache_rec *rec, const uint8_t *data)
{
	struct index_cache_rec tmp = *rec;
	uint32_t crc;

	tmp.crc = 0;
	crc = (uint32_t)crc32(0, (const Bytef *)&tmp, sizeof(tmp));
	return (uint32_t)crc32_z(crc, data, rec->data_len);
}

/* Reads and verifies the record at off; data points at its value. */
static bool read_rec(struct index_cache *cache, uint64_t off, uint32_t uid,
		     struct index_cache_rec *rec_r, const uint8_t **data_r)
{
	const uint8_t *p;

	if (off < sizeof(struct index_cache_header) || off % 8 != 0 || off > INDEX_CACHE_FILE_MAX)
		return false;
	p = cache_read(cache, off, sizeof(*rec_r));
	if (p == NULL)
		return false;
	memcpy(rec_r, p, sizeof(*rec_r));
	if (rec_r->uid != uid || rec_r->data_len > INDEX_CACHE_VALUE_MAX ||
	    (rec_r->prev_off != 0 && rec_r->prev_off >= off))
		return false;
	p = cache_read(cache, off + sizeof(*rec_r), rec_r->data_len);
	if (p == NULL || rec_crc(rec_r, p) != rec_r->crc)
		return false;
	*data_r = p;
	return true;
}

bool index_cache_lookup(struct index_cache *cache, uint64_t head, uint32_t uid, uint16_t field,
			const uint8_t **data_r, size_t *len_r)
{
	uint64_t off = head;

	for (int i = 0; i < INDEX_CACHE_CHAIN_MAX && off != 0; i++) {
		struct index_cache_rec rec;
		const uint8_t *data;

		if (!read_rec(cache, off, uid, &rec, &data))
			return false;
		if (rec.field == field) {
			*data_r = data;
			*len_r = rec.data_len;
			return true;
		}
		off = rec.prev_off;
	}
	return false;
}

bool index_cache_foreach(struct index_cache *cache, uint64_t head, uint32_t uid,
			 void (*cb)(void *ctx, uint16_t field, const uint8_t *data, size_t len),
			 void *ctx)
{
	uint16_t seen[INDEX_CACHE_CHAIN_MAX];
	int nseen = 0;
	uint64_t off = head;

	for (int i = 0; i < INDEX_CACHE_CHAIN_MAX && off != 0; i++) {
		struct index_cache_rec rec;
		const uint8_t *data;
		bool dup = false;

		if (!read_rec(cache, off, uid, &rec, &data))
			return false;
		for (int j = 0; j < nseen; j++)
			dup = dup || seen[j] == rec.field;
		if (!dup) {
			seen[nseen++] = rec.field;
			cb(ctx, rec.field, data, rec.data_len);
		}
		off = rec.prev_off;
	}
	return true;
}

static uint32_t *pending_slot(struct index_cache *cache, uint32_t uid)
{
	size_t mask = cache->pending_hash_size - 1;
	size_t pos = (uid * 0x9e3779b1U) & mask;

	while (cache->pending_hash_uid[pos] != 0 && cache->pending_hash_uid[pos] != uid)
		pos = (pos + 1) & mask;
	cache->pending_hash_uid[pos] = uid;
	return &cache->pending_hash_idx[pos];
}

static void pending_hash_grow(struct index_cache *cache)
{
	uint32_t *old_uid = cache->pending_hash_uid, *old_idx = cache->pending_hash_idx;
	size_t old_size = cache->pending_hash_size;

	cache->pending_hash_size = old_size == 0 ? 256 : old_size * 2;
	cache->pending_hash_uid = i_calloc(cache->pending_hash_size, sizeof(uint32_t));
	cache->pending_hash_idx = i_calloc(cache->pending_hash_size, sizeof(uint32_t));
	for (size_t i = 0; i < old_size; i++) {
		if (old_uid[i] != 0)
			*pending_slot(cache, old_uid[i]) = old_idx[i];
	}
	free(old_uid);
	free(old_idx);
}

bool index_cache_add(struct index_cache *cache, uint32_t uid, uint16_t field, uint64_t head,
		     const void *data, size_t len)
{
	static const uint8_t zeros[8];
	struct index_cache_rec rec;
	struct pending *pend;
	uint32_t *slot;
	size_t rel = buf_len(&cache->pending_data);

	if (len > INDEX_CACHE_VALUE_MAX || uid == 0)
		return false;
	if (cache->pending_count * 2 + 2 > cache->pending_hash_size)
		pending_hash_grow(cache);
	memset(&rec, 0, sizeof(rec));
	rec.uid = uid;
	rec.field = field;
	rec.data_len = (uint32_t)len;
	if (!buf_append(&cache->pending_data, &rec, sizeof(rec)) ||
	    !buf_append(&cache->pending_data, data, len) ||
	    !buf_append(&cache->pending_data, zeros, (8 - len % 8) % 8)) {
		buf_truncate(&cache->pending_data, rel);
		return false;
	}
	if (cache->pending_count == cache->pending_alloc) {
		cache->pending_alloc = cache->pending_alloc == 0 ? 256 : cache->pending_alloc * 2;
		cache->pending = i_realloc_array(cache->pending, cache->pending_alloc,
						 sizeof(*cache->pending));
	}
	pend = &cache->pending[cache->pending_count];
	pend->uid = uid;
	pend->rel_off = rel;
	slot = pending_slot(cache, uid);
	if (*slot != 0) {
		pend->prev_pending = true;
		pend->prev = *slot - 1;
	} else {
		pend->prev_pending = false;
		pend->prev = head;
	}
	*slot = (uint32_t)++cache->pending_count;
	return true;
}

size_t index_cache_pending_size(const struct index_cache *cache)
{
	return buf_len(&cache->pending_data);
}

bool index_cache_flush(struct index_cache *cache, struct index_cache_head **heads_r,
		       size_t *count_r, struct mailbox_error *err)
{
	uint8_t *data = buf_data_mut(&cache->pending_data);
	struct index_cache_head *heads;
	size_t nheads = 0, len = buf_len(&cache->pending_data);
	struct stat st;
	uint64_t base;
	size_t done = 0;

	*heads_r = NULL;
	*count_r = 0;
	if (cache->pending_count == 0)
		return true;
	if (fstat(cache->fd, &st) < 0)
		return mailbox_error_errno(err, errno, "fstat(%s) failed", cache->path);
	/* Records start 8-aligned; pad a tail left by a crashed writer. */
	base = ((uint64_t)st.st_size + 7) & ~7ULL;
	if (base < sizeof(struct index_cache_header) || base + len > INDEX_CACHE_FILE_MAX) {
		index_cache_drop_pending(cache);
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: cache file full",
					 cache->path);
	}
	for (size_t i = 0; i < cache->pending_count; i++) {
		const struct pending *pend = &cache->pending[i];
		struct index_cache_rec rec;

		memcpy(&rec, data + pend->rel_off, sizeof(rec));
		rec.prev_off =
			pend->prev_pending ? base + cache->pending[pend->prev].rel_off : pend->prev;
		rec.crc = rec_crc(&rec, data + pend->rel_off + sizeof(rec));
		memcpy(data + pend->rel_off, &rec, sizeof(rec));
	}
	while (done < len) {
		ssize_t n = pwrite(cache->fd, data + done, len - done, (off_t)(base + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? ENOSPC : errno;

			if (ftruncate(cache->fd, st.st_size) < 0) {
				/* The tail is garbage nobody points to. */
			}
			index_cache_drop_pending(cache);
			return mailbox_error_errno(err, e, "write(%s) failed", cache->path);
		}
		done += (size_t)n;
	}
	heads = i_malloc(cache->pending_count * sizeof(*heads));
	for (size_t i = 0; i < cache->pending_hash_size; i++) {
		if (cache->pending_hash_uid[i] == 0)
			continue;
		heads[nheads].uid = cache->pending_hash_uid[i];
		heads[nheads].offset =
			base + cache->pending[cache->pending_hash_idx[i] - 1].rel_off;
		nheads++;
	}
	/* Anything read through the window may now be stale. */
	cache->window_len = 0;
	index_cache_drop_pending(cache);
	*heads_r = heads;
	*count_r = nheads;
	return true;
}
