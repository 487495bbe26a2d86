/*
 * roost.index reading, checking and writing (see index-file.h). Runs in the
 * mail processes as the mail user. Files are read with read() rather than
 * mapped, so a file truncated by another process cannot fault us; every
 * field is checked before use and a bad file is reported, not repaired.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "index-file.h"
#include "mailbox-flags.h"
#include "maildir-filename.h"
#include "xalloc.h"

#define NAMES_MAX (UINT32_MAX - 1)
/* Reads that race a writer are retried this often before the file counts
   as corrupt. */
#define INDEX_READ_TRIES 8

void index_view_init(struct index_view *view)
{
	memset(view, 0, sizeof(*view));
	buf_init(&view->names, NAMES_MAX);
}

void index_view_deinit(struct index_view *view)
{
	free(view->recs);
	free(view->expunges);
	buf_free(&view->names);
	memset(view, 0, sizeof(*view));
}

void index_view_copy(struct index_view *dst, const struct index_view *src)
{
	index_view_deinit(dst);
	index_view_init(dst);
	dst->hdr = src->hdr;
	dst->count = src->count;
	dst->alloc = src->count;
	if (src->count > 0) {
		dst->recs = i_malloc(src->count * sizeof(*src->recs));
		memcpy(dst->recs, src->recs, src->count * sizeof(*src->recs));
	}
	dst->expunge_count = src->expunge_count;
	dst->expunge_alloc = src->expunge_count;
	if (src->expunge_count > 0) {
		dst->expunges = i_malloc(src->expunge_count * sizeof(*src->expunges));
		memcpy(dst->expunges, src->expunges, src->expunge_count * sizeof(*src->expunges));
	}
	(void)buf_append(&dst->names, buf_data(&src->names), buf_len(&src->names));
}

void index_view_move(struct index_view *dst, struct index_view *src)
{
	index_view_deinit(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
	index_view_init(src);
}

struct mail_record *index_view_append(struct index_view *view)
{
	if (view->count == view->alloc) {
		view->alloc = view->alloc < 64 ? 64 : view->alloc * 2;
		view->recs = i_realloc_array(view->recs, view->alloc, sizeof(*view->recs));
	}
	memset(&view->recs[view->count], 0, sizeof(view->recs[0]));
	view->recs[view->count].internal_date = INDEX_DATE_UNKNOWN;
	view->recs[view->count].save_date = INDEX_DATE_UNKNOWN;
	return &view->recs[view->count++];
}

bool index_view_set_name(struct index_view *view, struct mail_record *rec, const char *name,
			 size_t len)
{
	size_t off = buf_len(&view->names);

	if (len > UINT16_MAX || !buf_append(&view->names, name, len))
		return false;
	rec->name_off = (uint32_t)off;
	rec->name_len = (uint16_t)len;
	return true;
}

const char *index_view_name(const struct index_view *view, const struct mail_record *rec)
{
	return (const char *)buf_data(&view->names) + rec->name_off;
}

ssize_t index_view_find(const struct index_view *view, uint32_t uid)
{
	size_t lo = 0, hi = view->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (view->recs[mid].uid == uid)
			return (ssize_t)mid;
		if (view->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void index_view_log_expunge(struct index_view *view, uint32_t uid, uint64_t modseq)
{
	if (view->expunge_count >= INDEX_EXPUNGES_MAX) {
		/* Forget the oldest half at once so this stays amortised. */
		size_t drop = view->expunge_count / 2;

		view->hdr.expunge_log_min_modseq = view->expunges[drop - 1].modseq;
		memmove(view->expunges, view->expunges + drop,
			(view->expunge_count - drop) * sizeof(*view->expunges));
		view->expunge_count -= drop;
	}
	if (view->expunge_count == view->expunge_alloc) {
		view->expunge_alloc = view->expunge_alloc < 64 ? 64 : view->expunge_alloc * 2;
		view->expunges = i_realloc_array(view->expunges, view->expunge_alloc,
						 sizeof(*view->expunges));
	}
	view->expunges[view->expunge_count].uid = uid;
	view->expunges[view->expunge_count].reserved = 0;
	view->expunges[view->expunge_count].modseq = modseq;
	view->expunge_count++;
}

static uint32_t header_crc(const struct index_header *hdr)
{
	struct index_header tmp = *hdr;

	tmp.header_crc = 0;
	return (uint32_t)crc32(0, (const Bytef *)&tmp, sizeof(tmp));
}

/* Exact body size for a header, or false if it overflows the limit. */
static bool body_size(const struct index_header *hdr, uint64_t *size_r)
{
	uint64_t size = (uint64_t)hdr->messages_count * sizeof(struct mail_record);

	size += hdr->names_size;
	size += (uint64_t)hdr->expunge_count * sizeof(struct index_expunge);
	*size_r = size;
	return size <= INDEX_FILE_MAX;
}

bool index_header_check(const struct index_header *hdr, uint64_t file_size,
			struct mailbox_error *err)
{
	uint64_t body;

	if (memcmp(hdr->magic, INDEX_MAGIC, sizeof(hdr->magic)) != 0)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "bad magic");
	if (hdr->version != INDEX_VERSION || hdr->endian != INDEX_ENDIAN_MARKER ||
	    hdr->header_size != sizeof(*hdr) || hdr->record_size != sizeof(struct mail_record))
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
					 "unsupported version, byte order or record size");
	if (header_crc(hdr) != hdr->header_crc)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "header checksum mismatch");
	if (hdr->uidvalidity == 0 || hdr->next_uid == 0 ||
	    hdr->messages_count > INDEX_RECORDS_MAX || hdr->messages_count >= hdr->next_uid ||
	    hdr->expunge_count > INDEX_EXPUNGES_MAX || hdr->names_size > NAMES_MAX ||
	    hdr->keywords_count > 26)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "header values out of range");
	if (!body_size(hdr, &body) || body + sizeof(*hdr) != file_size)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
					 "file size does not match the header");
	return true;
}

bool index_file_parse(struct index_view *view, const void *data, size_t len,
		      struct mailbox_error *err)
{
	const uint8_t *p = data;
	struct index_header hdr;
	size_t recs_size, names_off, exp_off;
	uint32_t prev_uid = 0;

	index_view_deinit(view);
	index_view_init(view);
	if (len < sizeof(hdr))
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "file too short");
	memcpy(&hdr, p, sizeof(hdr));
	if (!index_header_check(&hdr, len, err))
		return false;
	if ((uint32_t)crc32_z(0, p + sizeof(hdr), len - sizeof(hdr)) != hdr.body_crc)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "body checksum mismatch");
	recs_size = (size_t)hdr.messages_count * sizeof(struct mail_record);
	names_off = sizeof(hdr) + recs_size;
	exp_off = names_off + (size_t)hdr.names_size;

	view->hdr = hdr;
	view->count = hdr.messages_count;
	view->alloc = hdr.messages_count;
	if (recs_size > 0) {
		view->recs = i_malloc(recs_size);
		memcpy(view->recs, p + sizeof(hdr), recs_size);
	}
	for (size_t i = 0; i < view->count; i++) {
		struct mail_record *rec = &view->recs[i];

		if (rec->uid <= prev_uid || rec->uid >= hdr.next_uid || rec->name_len == 0 ||
		    (uint64_t)rec->name_off + rec->name_len > hdr.names_size ||
		    (rec->flags & ~MAIL_FLAGS_MASK) != 0 ||
		    (rec->keywords & ~MAIL_KEYWORDS_MASK) != 0 ||
		    (rec->state & ~INDEX_REC_IN_NEW) != 0 || rec->modseq > hdr.highest_modseq ||
		    rec->psize > MAILDIR_SIZE_MAX || rec->vsize > MAILDIR_SIZE_MAX) {
			index_view_deinit(view);
			index_view_init(view);
			return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
						 "record %zu is inconsistent", i);
		}
		prev_uid = rec->uid;
	}
	{
		uint8_t *names = buf_reserve(&view->names, (size_t)hdr.names_size);

		if (names == NULL) {
			index_view_deinit(view);
			index_view_init(view);
			return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "names area too large");
		}
		memcpy(names, p + names_off, (size_t)hdr.names_size);
		buf_commit(&view->names, (size_t)hdr.names_size);
	}
	/* Names end up in paths and in dovecot-uidlist lines: a checksum
	   anyone can compute proves nothing about them. */
	for (size_t i = 0; i < view->count; i++) {
		if (!maildir_filename_valid(index_view_name(view, &view->recs[i]),
					    view->recs[i].name_len)) {
			index_view_deinit(view);
			index_view_init(view);
			return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
						 "record %zu has an invalid file name", i);
		}
	}
	view->expunge_count = hdr.expunge_count;
	view->expunge_alloc = hdr.expunge_count;
	if (hdr.expunge_count > 0) {
		view->expunges = i_malloc(hdr.expunge_count * sizeof(struct index_expunge));
		memcpy(view->expunges, p + exp_off,
		       hdr.expunge_count * sizeof(struct index_expunge));
		for (size_t i = 0; i < view->expunge_count; i++) {
			if (view->expunges[i].uid == 0 || view->expunges[i].uid >= hdr.next_uid ||
			    view->expunges[i].modseq > hdr.highest_modseq) {
				index_view_deinit(view);
				index_view_init(view);
				return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
							 "expunge log entry %zu is inconsistent",
							 i);
			}
		}
	}
	return true;
}

static void stat_to_index(const struct stat *st, struct index_file_stat *out)
{
	out->ino = (uint64_t)st->st_ino;
	out->dev = (uint64_t)st->st_dev;
	out->size = (uint64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

bool index_file_stat_equal(const struct index_file_stat *a, const struct index_file_stat *b)
{
	return a->ino == b->ino && a->dev == b->dev && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

bool index_file_stat(const char *path, struct index_file_stat *st_r)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		memset(st_r, 0, sizeof(*st_r));
		return false;
	}
	stat_to_index(&st, st_r);
	return true;
}

static bool read_full(int fd, void *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)p + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Whether the file open on fd is no longer the one fstat() gave as before,
   or no longer at path: a writer replaced or rewrote it while we read. */
static bool changed_under(int fd, const char *path, const struct stat *before)
{
	struct stat now, at;

	if (fstat(fd, &now) < 0 || stat(path, &at) < 0)
		return true;
	return now.st_size != before->st_size || now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != before->st_mtim.tv_nsec || at.st_ino != before->st_ino ||
	       at.st_dev != before->st_dev;
}

/* Opens the index at path for reading: the descriptor, -1 with err set,
   or -2 if there is no index. */
static int open_index(const char *path, struct stat *st_r, struct mailbox_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT)
			return -2;
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	if (fstat(fd, st_r) < 0 || !S_ISREG(st_r->st_mode) ||
	    (uint64_t)st_r->st_size > INDEX_FILE_MAX) {
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: not a regular file or too large",
				  path);
		return -1;
	}
	return fd;
}

/* One try of index_file_read; *retry_r says a failure was a writer's
   doing and a new try will do. */
static int read_once(struct index_view *view, const char *path, struct index_file_stat *st_r,
		     bool *retry_r, struct mailbox_error *err)
{
	struct mailbox_error why;
	struct stat st;
	void *data;
	bool ok;
	int fd;

	*retry_r = false;
	fd = open_index(path, &st, err);
	if (fd < 0)
		return fd == -2 ? 0 : -1;
	data = i_malloc((size_t)st.st_size + 1);
	ok = read_full(fd, data, (size_t)st.st_size);
	if (ok)
		ok = index_file_parse(view, data, (size_t)st.st_size, &why);
	else
		mailbox_error_set(&why, MAILBOX_ERROR_TEMP, "short read");
	free(data);
	if (!ok) {
		*retry_r = changed_under(fd, path, &st);
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: corrupt index: %s", path, why.text);
		return -1;
	}
	close(fd);
	stat_to_index(&st, st_r);
	return 1;
}

int index_file_read(struct index_view *view, const char *path, struct index_file_stat *st_r,
		    struct mailbox_error *err)
{
	bool retry;
	int r;

	for (int tries = 0;; tries++) {
		r = read_once(view, path, st_r, &retry, err);
		if (r >= 0 || !retry || tries == INDEX_READ_TRIES - 1)
			return r;
		index_view_deinit(view);
		index_view_init(view);
		mailbox_error_clear(err);
	}
}

int index_file_read_header(const char *path, struct index_header *hdr_r, struct mailbox_error *err)
{
	struct mailbox_error why;
	struct stat st;
	bool ok, retry;
	int fd;

	for (int tries = 0;; tries++) {
		fd = open_index(path, &st, err);
		if (fd < 0)
			return fd == -2 ? 0 : -1;
		ok = read_full(fd, hdr_r, sizeof(*hdr_r));
		if (!ok)
			mailbox_error_set(&why, MAILBOX_ERROR_TEMP, "unreadable header");
		else
			ok = index_header_check(hdr_r, (uint64_t)st.st_size, &why);
		retry = !ok && tries < INDEX_READ_TRIES - 1 && changed_under(fd, path, &st);
		close(fd);
		if (ok)
			return 1;
		if (!retry) {
			mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: corrupt index: %s", path,
					  why.text);
			return -1;
		}
	}
}

/*
 * Gives the file written on fd an mtime later than the current version at
 * path. Versions alternate between two inodes, and sessions tell them
 * apart by inode, size and mtime: two writes within one coarse clock tick
 * must still differ.
 */
static bool stamp_later(int fd, const char *path)
{
	struct timespec ts[2];
	struct stat cur;

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	clock_gettime(CLOCK_REALTIME, &ts[1]);
	if (stat(path, &cur) == 0 &&
	    (ts[1].tv_sec < cur.st_mtim.tv_sec ||
	     (ts[1].tv_sec == cur.st_mtim.tv_sec && ts[1].tv_nsec <= cur.st_mtim.tv_nsec))) {
		ts[1] = cur.st_mtim;
		if (++ts[1].tv_nsec == 1000000000L) {
			ts[1].tv_sec++;
			ts[1].tv_nsec = 0;
		}
	}
	return futimens(fd, ts) == 0;
}

static bool write_all(int fd, const void *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	return true;
}

bool index_file_write(struct index_view *view, const char *path, struct index_file_stat *st_r,
		      struct mailbox_error *err)
{
	struct buf names = BUF_INIT(NAMES_MAX);
	struct buf tmp = BUF_INIT(4096);
	struct index_header *hdr = &view->hdr;
	size_t names_need = 0;
	struct mail_record *recs = NULL;
	size_t recs_size = view->count * sizeof(*view->recs);
	uint32_t crc;
	struct stat st;
	size_t size;
	bool ok = false;
	int fd = -1;

	if (view->count > INDEX_RECORDS_MAX)
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: too many messages", path);
	/* Compact names and drop the session-only bits on a copy of the
	   records, so the caller's view keeps its own. */
	if (recs_size > 0)
		recs = i_malloc(recs_size);
	for (size_t i = 0; i < view->count; i++)
		names_need += view->recs[i].name_len;
	if (buf_reserve(&names, names_need) == NULL) {
		free(recs);
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: names area too large",
					 path);
	}
	hdr->total_psize = 0;
	hdr->total_vsize = 0;
	for (size_t i = 0; i < view->count; i++) {
		recs[i] = view->recs[i];
		recs[i].flags &= MAIL_FLAGS_MASK;
		recs[i].name_off = (uint32_t)buf_len(&names);
		if (!buf_append(&names, index_view_name(view, &view->recs[i]),
				view->recs[i].name_len)) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: names area too large",
					  path);
			goto out;
		}
		hdr->total_psize += recs[i].psize;
		hdr->total_vsize += recs[i].vsize;
	}
	memcpy(hdr->magic, INDEX_MAGIC, sizeof(hdr->magic));
	hdr->version = INDEX_VERSION;
	hdr->endian = INDEX_ENDIAN_MARKER;
	hdr->header_size = sizeof(*hdr);
	hdr->record_size = sizeof(struct mail_record);
	hdr->messages_count = (uint32_t)view->count;
	hdr->names_size = buf_len(&names);
	hdr->expunge_count = (uint32_t)view->expunge_count;
	hdr->generation++;
	/* zlib treats a NULL buffer as "give me the initial value", so
	   empty parts are skipped rather than passed. */
	crc = (uint32_t)crc32_z(0, Z_NULL, 0);
	if (recs_size > 0)
		crc = (uint32_t)crc32_z(crc, (const Bytef *)recs, recs_size);
	if (buf_len(&names) > 0)
		crc = (uint32_t)crc32_z(crc, buf_data(&names), buf_len(&names));
	if (view->expunge_count > 0)
		crc = (uint32_t)crc32_z(crc, (const Bytef *)view->expunges,
					view->expunge_count * sizeof(*view->expunges));
	hdr->body_crc = crc;
	hdr->header_crc = header_crc(hdr);

	if (!buf_printf(&tmp, "%s.tmp", path)) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: path too long", path);
		goto out;
	}
	/* path.tmp is the version before the current one: overwrite it and
	   swap the two names, rather than create and free an inode per write
	   (on ext4 that was a tenth of roost-imap's time on a busy mailbox).
	   A reader still on the old version notices (index_file_read). */
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	size = sizeof(*hdr) + recs_size + buf_len(&names) +
	       view->expunge_count * sizeof(*view->expunges);
	if (!write_all(fd, hdr, sizeof(*hdr)) || !write_all(fd, recs, recs_size) ||
	    !write_all(fd, buf_data(&names), buf_len(&names)) ||
	    !write_all(fd, view->expunges, view->expunge_count * sizeof(*view->expunges)) ||
	    ftruncate(fd, (off_t)size) < 0 || !stamp_later(fd, path) || fstat(fd, &st) < 0) {
		mailbox_error_errno(err, errno, "write(%s) failed", buf_cstr(&tmp));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		mailbox_error_errno(err, errno, "close(%s) failed", buf_cstr(&tmp));
		goto out_unlink;
	}
	fd = -1;
	if (renameat2(AT_FDCWD, buf_cstr(&tmp), AT_FDCWD, path, RENAME_EXCHANGE) < 0 &&
	    rename(buf_cstr(&tmp), path) < 0) {
		/* No index yet (ENOENT) or no exchange here: a plain rename. */
		mailbox_error_errno(err, errno, "rename(%s) failed", path);
		goto out_unlink;
	}
	stat_to_index(&st, st_r);
	/* Keep the compacted names so the view does not grow without end. */
	for (size_t i = 0; i < view->count; i++)
		view->recs[i].name_off = recs[i].name_off;
	buf_move(&view->names, &names);
	ok = true;
	goto out;
out_unlink:
	(void)unlink(buf_cstr(&tmp));
out:
	if (fd >= 0)
		close(fd);
	free(recs);
	buf_free(&names);
	buf_free(&tmp);
	return ok;
}
