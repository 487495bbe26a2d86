/*
 * dovecot-uidlist reading and writing (see maildir-uidlist.h). Runs in the
 * mail processes as the mail user. Readers need no lock because writers
 * replace the file with rename() or append whole lines under the mailbox's
 * sync lock; the contents are still treated as hostile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "maildir-filename.h"
#include "maildir-uidlist.h"
#include "xalloc.h"

/* Everything about one file's strings fits in 32-bit offsets. */
#define UIDLIST_STRINGS_MAX (2U * 1024 * 1024 * 1024 - 1)

void maildir_uidlist_init(struct maildir_uidlist *ul)
{
	memset(ul, 0, sizeof(*ul));
	buf_init(&ul->hdr_extra, 1024);
	buf_init(&ul->strings, UIDLIST_STRINGS_MAX);
	buf_init(&ul->first_line, MAILDIR_UIDLIST_LINE_MAX + 1);
	buf_init(&ul->last_line, MAILDIR_UIDLIST_LINE_MAX + 1);
}

void maildir_uidlist_deinit(struct maildir_uidlist *ul)
{
	buf_free(&ul->hdr_extra);
	buf_free(&ul->strings);
	buf_free(&ul->first_line);
	buf_free(&ul->last_line);
	free(ul->recs);
	free(ul->hash);
	memset(ul, 0, sizeof(*ul));
}

void maildir_uidlist_reset(struct maildir_uidlist *ul)
{
	maildir_uidlist_deinit(ul);
	maildir_uidlist_init(ul);
}

/* A quick 64-bit hash over 8-byte words; not cryptographic, and the table
   it feeds tolerates collisions, so hostile names only cost time. */
uint64_t maildir_hash_bytes(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t v = 0;

		memcpy(&v, p, len);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
	}
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

static size_t base_len(const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);

	return colon != NULL ? (size_t)(colon - name) : len;
}

const char *maildir_uidlist_rec_name(const struct maildir_uidlist *ul,
				     const struct maildir_uidlist_rec *rec)
{
	return (const char *)buf_data(&ul->strings) + rec->name_off;
}

static void hash_insert(struct maildir_uidlist *ul, size_t idx)
{
	const struct maildir_uidlist_rec *rec = &ul->recs[idx];
	const char *name = maildir_uidlist_rec_name(ul, rec);
	size_t mask = ul->hash_size - 1;
	size_t pos = rec->hash & mask;

	for (;;) {
		uint32_t cur = ul->hash[pos];

		if (cur == 0) {
			ul->hash[pos] = (uint32_t)idx + 1;
			return;
		}
		const struct maildir_uidlist_rec *other = &ul->recs[cur - 1];

		if (other->hash == rec->hash && other->base_len == rec->base_len &&
		    memcmp(maildir_uidlist_rec_name(ul, other), name, rec->base_len) == 0) {
			/* A later line for the same file wins, as in Dovecot;
			   the older record is a stale duplicate. */
			if (other->uid != 0) {
				ul->recs[cur - 1].uid = 0;
				ul->removed++;
			}
			ul->hash[pos] = (uint32_t)idx + 1;
			return;
		}
		pos = (pos + 1) & mask;
	}
}

static void hash_rebuild(struct maildir_uidlist *ul)
{
	size_t size = 64;

	while (size < ul->count * 2 + 2)
		size *= 2;
	free(ul->hash);
	ul->hash = i_calloc(size, sizeof(*ul->hash));
	ul->hash_size = size;
	for (size_t i = 0; i < ul->count; i++) {
		if (ul->recs[i].uid != 0)
			hash_insert(ul, i);
	}
}

ssize_t maildir_uidlist_lookup(const struct maildir_uidlist *ul, const char *name, size_t len)
{
	size_t blen = base_len(name, len);
	uint32_t h;
	size_t mask, pos;

	if (ul->hash_size == 0)
		return -1;
	h = (uint32_t)maildir_hash_bytes(name, blen);
	mask = ul->hash_size - 1;
	pos = h & mask;
	for (;;) {
		uint32_t cur = ul->hash[pos];

		if (cur == 0)
			return -1;
		const struct maildir_uidlist_rec *rec = &ul->recs[cur - 1];

		if (rec->hash == h && rec->base_len == blen &&
		    memcmp(maildir_uidlist_rec_name(ul, rec), name, blen) == 0)
			return rec->uid == 0 ? -1 : (ssize_t)(cur - 1);
		pos = (pos + 1) & mask;
	}
}

ssize_t maildir_uidlist_lookup_uid(const struct maildir_uidlist *ul, uint32_t uid)
{
	size_t lo = 0, hi = ul->count;

	/* Removed records keep their position; search by the UID they had is
	   impossible, so skip over them while bisecting. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, m = mid;

		while (m < hi && ul->recs[m].uid == 0)
			m++;
		if (m == hi) {
			hi = mid;
			continue;
		}
		if (ul->recs[m].uid == uid)
			return (ssize_t)m;
		if (ul->recs[m].uid < uid)
			lo = m + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool add_string(struct maildir_uidlist *ul, const char *s, size_t len, uint32_t *off_r)
{
	size_t off = buf_len(&ul->strings);

	if (!buf_append(&ul->strings, s, len))
		return false;
	*off_r = (uint32_t)off;
	return true;
}

static struct maildir_uidlist_rec *new_rec(struct maildir_uidlist *ul)
{
	if (ul->count == ul->alloc) {
		ul->alloc = ul->alloc == 0 ? 256 : ul->alloc * 2;
		ul->recs = i_realloc_array(ul->recs, ul->alloc, sizeof(*ul->recs));
	}
	memset(&ul->recs[ul->count], 0, sizeof(ul->recs[0]));
	return &ul->recs[ul->count];
}

/* Registers the record just filled in at recs[count]; grows the hash. */
static void commit_rec(struct maildir_uidlist *ul)
{
	size_t idx = ul->count++;
	struct maildir_uidlist_rec *rec = &ul->recs[idx];
	const char *name = maildir_uidlist_rec_name(ul, rec);

	rec->base_len = (uint16_t)base_len(name, rec->name_len);
	rec->hash = (uint32_t)maildir_hash_bytes(name, rec->base_len);

	if (ul->hash_size < ul->count * 2 + 2)
		hash_rebuild(ul);
	else
		hash_insert(ul, idx);
}

static uint32_t last_uid(const struct maildir_uidlist *ul)
{
	for (size_t i = ul->count; i > 0; i--) {
		if (ul->recs[i - 1].uid != 0)
			return ul->recs[i - 1].uid;
	}
	return 0;
}

/* Parses a decimal u32 at [*p, end); stops at the first non-digit. */
static bool parse_u32(const char **p, const char *end, uint32_t *v_r)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
		s++;
	}
	*p = s;
	*v_r = (uint32_t)v;
	return true;
}

static bool parse_u64_all(const char *s, const char *end, uint64_t *v_r)
{
	uint64_t v = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > MAILDIR_SIZE_MAX)
			return false;
	}
	*v_r = v;
	return true;
}

static bool parse_header(struct maildir_uidlist *ul, const char *line, const char *end,
			 struct mailbox_error *err, const char *path)
{
	const char *p = line;
	uint32_t version;

	if (!parse_u32(&p, end, &version) || (p != end && *p != ' '))
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: broken header line", path);
	if (version == 1) {
		/* "1 <uidvalidity> <nextuid>", Courier-compatible. */
		if (p == end || *p++ != ' ' || !parse_u32(&p, end, &ul->uidvalidity) || p == end ||
		    *p++ != ' ' || !parse_u32(&p, end, &ul->next_uid))
			return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
						 "%s: broken version 1 header", path);
	} else if (version == 3) {
		while (p < end) {
			const char *tok, *tend;

			if (*p == ' ') {
				p++;
				continue;
			}
			tok = p;
			tend = memchr(p, ' ', (size_t)(end - p));
			if (tend == NULL)
				tend = end;
			p = tend;
			if (*tok == 'V') {
				const char *q = tok + 1;

				if (!parse_u32(&q, tend, &ul->uidvalidity) || q != tend)
					return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
								 "%s: broken UIDVALIDITY", path);
			} else if (*tok == 'N') {
				const char *q = tok + 1;

				if (!parse_u32(&q, tend, &ul->next_uid) || q != tend)
					return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
								 "%s: broken next UID", path);
			} else if (*tok == 'G') {
				size_t n = (size_t)(tend - tok - 1);

				ul->guid[0] = '\0';
				if (n == 32 && strspn(tok + 1, "0123456789abcdef") >= 32)
					str_copy_n(ul->guid, sizeof(ul->guid), tok + 1, 32);
			} else {
				if ((buf_len(&ul->hdr_extra) > 0 &&
				     !buf_append_c(&ul->hdr_extra, ' ')) ||
				    !buf_append(&ul->hdr_extra, tok, (size_t)(tend - tok)))
					return mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
								 "%s: header too long", path);
			}
		}
	} else {
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
					 "%s: unsupported uidlist version %u", path, version);
	}
	if (ul->uidvalidity == 0)
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: missing UIDVALIDITY", path);
	if (ul->next_uid == 0)
		ul->next_uid = 1;
	ul->version = version;
	ul->have_header = true;
	return true;
}

/* Parses one record line; false means the line is skipped as bad. */
static bool parse_rec(struct maildir_uidlist *ul, const char *line, const char *end)
{
	const char *p = line, *name = NULL;
	struct maildir_uidlist_rec *rec;
	struct buf ext = BUF_INIT(MAILDIR_UIDLIST_LINE_MAX);
	uint32_t uid;
	bool ok = false;

	if (!parse_u32(&p, end, &uid) || uid == 0 || p == end || *p != ' ')
		return false;
	if (uid <= last_uid(ul) || ul->count >= MAILDIR_UIDLIST_RECORDS_MAX)
		return false;
	rec = new_rec(ul);
	rec->uid = uid;
	if (ul->version == 1) {
		name = p + 1;
	} else {
		while (p < end) {
			const char *tend;
			uint64_t v;

			if (*p == ' ') {
				p++;
				continue;
			}
			if (*p == ':') {
				name = p + 1;
				break;
			}
			tend = memchr(p, ' ', (size_t)(end - p));
			if (tend == NULL)
				tend = end;
			if (*p == 'S' && parse_u64_all(p + 1, tend, &v)) {
				rec->psize = v;
				rec->flags |= MAILDIR_UIDLIST_REC_PSIZE;
			} else if (*p == 'W' && parse_u64_all(p + 1, tend, &v)) {
				rec->vsize = v;
				rec->flags |= MAILDIR_UIDLIST_REC_VSIZE;
			} else if ((buf_len(&ext) > 0 && !buf_append_c(&ext, ' ')) ||
				   !buf_append(&ext, p, (size_t)(tend - p))) {
				goto out;
			}
			p = tend;
		}
	}
	if (name == NULL || !maildir_filename_valid(name, (size_t)(end - name)))
		goto out;
	if (buf_len(&ext) > UINT16_MAX)
		goto out;
	rec->name_len = (uint16_t)(end - name);
	rec->ext_len = (uint16_t)buf_len(&ext);
	if (!add_string(ul, name, rec->name_len, &rec->name_off) ||
	    !add_string(ul, (const char *)buf_data(&ext), buf_len(&ext), &rec->ext_off))
		goto out;
	if (uid >= ul->next_uid)
		ul->next_uid = uid == UINT32_MAX ? UINT32_MAX : uid + 1;
	commit_rec(ul);
	ok = true;
out:
	buf_free(&ext);
	return ok;
}

bool maildir_uidlist_parse(struct maildir_uidlist *ul, const char *path, const char *data,
			   size_t len, struct mailbox_error *err)
{
	size_t pos = 0;
	unsigned int bad_before = ul->bad_lines;

	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen;

		if (nl == NULL)
			break; /* incomplete last line: a writer is mid-append */
		llen = (size_t)(nl - line);
		if (llen <= MAILDIR_UIDLIST_LINE_MAX) {
			buf_reset(&ul->last_line);
			(void)buf_append(&ul->last_line, line, llen + 1);
			ul->last_line_off = ul->parsed_size + pos;
		}
		pos += llen + 1;
		if (!ul->have_header) {
			buf_reset(&ul->first_line);
			(void)buf_append(&ul->first_line, line, llen + 1);
			if (llen > MAILDIR_UIDLIST_LINE_MAX)
				return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
							 "%s: header line too long", path);
			if (!parse_header(ul, line, nl, err, path))
				return false;
			continue;
		}
		if (llen == 0)
			continue;
		if (llen > MAILDIR_UIDLIST_LINE_MAX || !parse_rec(ul, line, nl)) {
			if (ul->count >= MAILDIR_UIDLIST_RECORDS_MAX)
				return mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
							 "%s: more than %u records", path,
							 MAILDIR_UIDLIST_RECORDS_MAX);
			ul->bad_lines++;
		}
	}
	ul->parsed_size += pos;
	if (ul->bad_lines != bad_before)
		log_warning("%s: skipped %u broken or out-of-order lines", path,
			    ul->bad_lines - bad_before);
	return true;
}

uint32_t maildir_uidlist_add(struct maildir_uidlist *ul, const char *name, size_t len)
{
	struct maildir_uidlist_rec *rec;
	size_t blen = base_len(name, len);

	if (ul->next_uid == 0 || ul->next_uid == UINT32_MAX ||
	    ul->count >= MAILDIR_UIDLIST_RECORDS_MAX || blen > UINT16_MAX)
		return 0;
	rec = new_rec(ul);
	rec->uid = ul->next_uid;
	rec->name_len = (uint16_t)blen;
	if (!add_string(ul, name, blen, &rec->name_off))
		return 0;
	rec->ext_off = rec->name_off;
	ul->next_uid++;
	commit_rec(ul);
	return rec->uid;
}

bool maildir_uidlist_add_uid(struct maildir_uidlist *ul, uint32_t uid, const char *name, size_t len)
{
	struct maildir_uidlist_rec *rec;
	size_t blen = base_len(name, len);

	if (uid == 0 || uid == UINT32_MAX || uid <= last_uid(ul) ||
	    ul->count >= MAILDIR_UIDLIST_RECORDS_MAX || blen > UINT16_MAX)
		return false;
	rec = new_rec(ul);
	rec->uid = uid;
	rec->name_len = (uint16_t)blen;
	if (!add_string(ul, name, blen, &rec->name_off))
		return false;
	rec->ext_off = rec->name_off;
	if (uid >= ul->next_uid)
		ul->next_uid = uid + 1;
	commit_rec(ul);
	return true;
}

void maildir_uidlist_remove(struct maildir_uidlist *ul, size_t idx)
{
	if (idx < ul->count && ul->recs[idx].uid != 0) {
		ul->recs[idx].uid = 0;
		ul->removed++;
	}
}

bool maildir_uidlist_want_compact(const struct maildir_uidlist *ul)
{
	return ul->removed > 0 && ul->removed * 4 >= ul->count;
}

bool maildir_uidlist_format_header(const struct maildir_uidlist *ul, struct buf *out)
{
	if (!buf_printf(out, "3 V%u N%u", ul->uidvalidity, ul->next_uid))
		return false;
	if (ul->guid[0] != '\0' && !buf_printf(out, " G%s", ul->guid))
		return false;
	if (buf_len(&ul->hdr_extra) > 0 &&
	    (!buf_append_c(out, ' ') ||
	     !buf_append(out, buf_data(&ul->hdr_extra), buf_len(&ul->hdr_extra))))
		return false;
	return buf_append_c(out, '\n');
}

bool maildir_uidlist_format_rec(const struct maildir_uidlist *ul,
				const struct maildir_uidlist_rec *rec, struct buf *out)
{
	const char *name = maildir_uidlist_rec_name(ul, rec);
	struct maildir_filename fn;

	if (!buf_printf(out, "%u", rec->uid))
		return false;
	/* Sizes the file name does not carry are worth keeping here; those in
	   the name would be redundant. */
	(void)maildir_filename_parse(name, rec->name_len, &fn);
	if ((rec->flags & MAILDIR_UIDLIST_REC_PSIZE) != 0 && !fn.has_psize &&
	    !buf_printf(out, " S%llu", (unsigned long long)rec->psize))
		return false;
	if ((rec->flags & MAILDIR_UIDLIST_REC_VSIZE) != 0 && !fn.has_vsize &&
	    !buf_printf(out, " W%llu", (unsigned long long)rec->vsize))
		return false;
	if (rec->ext_len > 0 &&
	    (!buf_append_c(out, ' ') ||
	     !buf_append(out, buf_data(&ul->strings) + rec->ext_off, rec->ext_len)))
		return false;
	return buf_append(out, " :", 2) && buf_append(out, name, rec->name_len) &&
	       buf_append_c(out, '\n');
}

void maildir_uidlist_new_header(struct maildir_uidlist *ul, uint32_t uidvalidity)
{
	uint8_t rnd[16];
	static const char hex[] = "0123456789abcdef";

	ul->version = 3;
	ul->uidvalidity = uidvalidity;
	ul->next_uid = 1;
	ul->have_header = true;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* The GUID is informational; fall back to time and pid. */
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(rnd, &t, 8);
		memcpy(rnd + 8, &uidvalidity, 4);
	}
	for (int i = 0; i < 16; i++) {
		ul->guid[i * 2] = hex[rnd[i] >> 4];
		ul->guid[i * 2 + 1] = hex[rnd[i] & 15];
	}
	ul->guid[32] = '\0';
}

static void stat_to_ul(const struct stat *st, struct maildir_uidlist_stat *out)
{
	out->ino = (uint64_t)st->st_ino;
	out->dev = (uint64_t)st->st_dev;
	out->size = (uint64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static bool read_exact(int fd, void *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p = (char *)p + n;
		len -= (size_t)n;
		off += n;
	}
	return true;
}

/* Whether the file still holds, at the same offsets, the first and last
   lines we parsed: an inode number can be reused by a rewritten file, so
   equal inode and a larger size alone do not prove an append. */
static bool tail_matches(const struct maildir_uidlist *ul, int fd)
{
	size_t n1 = buf_len(&ul->first_line), n2 = buf_len(&ul->last_line);
	char *tmp = i_malloc((n1 > n2 ? n1 : n2) + 1);
	bool ok = n1 > 0 && n2 > 0 && ul->last_line_off + n2 == ul->parsed_size &&
		  read_exact(fd, tmp, n1, 0) && memcmp(tmp, buf_data(&ul->first_line), n1) == 0 &&
		  read_exact(fd, tmp, n2, (off_t)ul->last_line_off) &&
		  memcmp(tmp, buf_data(&ul->last_line), n2) == 0;

	free(tmp);
	return ok;
}

/* Updates first_line/last_line after we wrote data at file offset off. */
static void remember_lines(struct maildir_uidlist *ul, const struct buf *data, uint64_t off)
{
	const uint8_t *p = buf_data(data);
	size_t len = buf_len(data), start;
	const uint8_t *nl;

	if (len == 0)
		return;
	if (off == 0) {
		nl = memchr(p, '\n', len);
		buf_reset(&ul->first_line);
		(void)buf_append(&ul->first_line, p, (size_t)(nl - p) + 1);
	}
	start = len - 1;
	while (start > 0 && p[start - 1] != '\n')
		start--;
	buf_reset(&ul->last_line);
	if (buf_append(&ul->last_line, p + start, len - start))
		ul->last_line_off = off + start;
}

int maildir_uidlist_read(struct maildir_uidlist *ul, const char *path,
			 const struct maildir_uidlist_stat *old, struct maildir_uidlist_stat *st_r,
			 struct mailbox_error *err)
{
	struct stat st;
	uint64_t from = 0;
	char *data;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			maildir_uidlist_reset(ul);
			memset(st_r, 0, sizeof(*st_r));
			return 0;
		}
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		mailbox_error_errno(err, errno, "fstat(%s) failed", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAILDIR_UIDLIST_FILE_MAX) {
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: not a regular file or too large",
				  path);
		return -1;
	}
	ul->last_read_appended = false;
	if (old != NULL && ul->have_header && old->ino == (uint64_t)st.st_ino &&
	    old->dev == (uint64_t)st.st_dev && (uint64_t)st.st_size >= ul->parsed_size &&
	    old->size == ul->parsed_size) {
		if (old->mtime_ns ==
			    (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec &&
		    (uint64_t)st.st_size == ul->parsed_size) {
			close(fd);
			*st_r = *old;
			ul->last_read_appended = true;
			return 1;
		}
		if (tail_matches(ul, fd))
			from = ul->parsed_size;
		else
			maildir_uidlist_reset(ul);
	} else {
		maildir_uidlist_reset(ul);
	}
	len = (size_t)((uint64_t)st.st_size - from);
	data = i_malloc(len + 1);
	if (len > 0 && !read_exact(fd, data, len, (off_t)from)) {
		/* Shrunk under us: it was rewritten in place, which only a
		   foreign writer does. Start over from the whole file. */
		free(data);
		close(fd);
		if (from != 0) {
			maildir_uidlist_reset(ul);
			return maildir_uidlist_read(ul, path, NULL, st_r, err);
		}
		mailbox_error_errno(err, errno != 0 ? errno : EIO, "read(%s) failed", path);
		return -1;
	}
	close(fd);
	{
		size_t removed_before = ul->removed;

		if (!maildir_uidlist_parse(ul, path, data, len, err)) {
			free(data);
			return -1;
		}
		/* A repeated base in the new lines remaps an old record. */
		ul->last_read_appended = from != 0 && ul->removed == removed_before;
	}
	free(data);
	if (!ul->have_header) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: no header line", path);
		return -1;
	}
	stat_to_ul(&st, st_r);
	return 1;
}

int maildir_uidlist_read_ends(struct maildir_uidlist *ul, const char *path,
			      struct maildir_uidlist_stat *st_r, struct mailbox_error *err)
{
	char *head = NULL, *tail = NULL;
	const char *nl, *line, *p;
	size_t head_len, hdr_len, tail_len;
	uint64_t size, tail_off;
	struct stat st;
	uint32_t uid;
	int fd, ret = -1;

	maildir_uidlist_reset(ul);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MAILDIR_UIDLIST_FILE_MAX) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: unusable uidlist", path);
		goto out;
	}
	size = (uint64_t)st.st_size;
	head_len =
		size < MAILDIR_UIDLIST_LINE_MAX + 1 ? (size_t)size : MAILDIR_UIDLIST_LINE_MAX + 1;
	head = i_malloc(head_len + 1);
	if (!read_exact(fd, head, head_len, 0) || (nl = memchr(head, '\n', head_len)) == NULL) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: no header line", path);
		goto out;
	}
	hdr_len = (size_t)(nl - head) + 1;
	if (!maildir_uidlist_parse(ul, path, head, hdr_len, err))
		goto out;
	if (size > hdr_len) {
		tail_len = size - hdr_len < MAILDIR_UIDLIST_LINE_MAX + 1
				   ? (size_t)(size - hdr_len)
				   : MAILDIR_UIDLIST_LINE_MAX + 1;
		tail_off = size - tail_len;
		tail = i_malloc(tail_len + 1);
		if (!read_exact(fd, tail, tail_len, (off_t)tail_off)) {
			mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: short read", path);
			goto out;
		}
		nl = memrchr(tail, '\n', tail_len);
		if (nl == NULL) {
			if (tail_off != hdr_len) {
				mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: overlong line",
						  path);
				goto out;
			}
			/* Only a partial line after the header. */
			ul->parsed_size = hdr_len;
		} else {
			ul->parsed_size = tail_off + (uint64_t)(nl - tail) + 1;
			line = nl;
			while (line > tail && line[-1] != '\n')
				line--;
			if (line == tail && tail_off > hdr_len) {
				mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: overlong line",
						  path);
				goto out;
			}
			p = line;
			if (line < nl) {
				if (!parse_u32(&p, nl, &uid) || uid == 0 || *p != ' ') {
					mailbox_error_set(err, MAILBOX_ERROR_TEMP,
							  "%s: broken last line", path);
					goto out;
				}
				if (uid >= ul->next_uid)
					ul->next_uid = uid == UINT32_MAX ? UINT32_MAX : uid + 1;
			}
		}
	}
	stat_to_ul(&st, st_r);
	ret = 1;
out:
	free(head);
	free(tail);
	close(fd);
	return ret;
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

static void compact(struct maildir_uidlist *ul)
{
	size_t j = 0;

	if (ul->removed == 0)
		return;
	for (size_t i = 0; i < ul->count; i++) {
		if (ul->recs[i].uid != 0)
			ul->recs[j++] = ul->recs[i];
	}
	ul->count = j;
	ul->removed = 0;
	hash_rebuild(ul);
}

bool maildir_uidlist_write(struct maildir_uidlist *ul, const char *path, bool do_fsync,
			   struct maildir_uidlist_stat *st_r, struct mailbox_error *err)
{
	struct buf out = BUF_INIT(MAILDIR_UIDLIST_FILE_MAX);
	struct buf tmp = BUF_INIT(4096);
	struct stat st;
	int fd;
	bool ok = false;

	compact(ul);
	if (!maildir_uidlist_format_header(ul, &out))
		goto out;
	for (size_t i = 0; i < ul->count; i++) {
		if (!maildir_uidlist_format_rec(ul, &ul->recs[i], &out)) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: uidlist too large", path);
			goto out;
		}
	}
	if (!buf_printf(&tmp, "%s.roost-tmp", path)) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: path too long", path);
		goto out;
	}
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	if (!write_all(fd, buf_data(&out), buf_len(&out)) || (do_fsync && fdatasync(fd) < 0) ||
	    fstat(fd, &st) < 0) {
		mailbox_error_errno(err, errno, "write(%s) failed", buf_cstr(&tmp));
		close(fd);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	close(fd);
	if (rename(buf_cstr(&tmp), path) < 0) {
		mailbox_error_errno(err, errno, "rename(%s, %s) failed", buf_cstr(&tmp), path);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	stat_to_ul(&st, st_r);
	ul->parsed_size = (uint64_t)st.st_size;
	remember_lines(ul, &out, 0);
	ul->version = 3;
	ok = true;
out:
	buf_free(&out);
	buf_free(&tmp);
	return ok;
}

bool maildir_uidlist_append(struct maildir_uidlist *ul, const char *path, size_t first,
			    bool do_fsync, struct maildir_uidlist_stat *st_r,
			    struct mailbox_error *err)
{
	struct buf out = BUF_INIT(MAILDIR_UIDLIST_FILE_MAX);
	struct stat st;
	int fd;
	bool ok = false;

	for (size_t i = first; i < ul->count; i++) {
		if (ul->recs[i].uid != 0 && !maildir_uidlist_format_rec(ul, &ul->recs[i], &out)) {
			buf_free(&out);
			return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: uidlist too large",
						 path);
		}
	}
	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: cannot append", path);
		goto out_close;
	}
	if ((uint64_t)st.st_size < ul->parsed_size) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: shrank under the lock", path);
		goto out_close;
	}
	if ((uint64_t)st.st_size > ul->parsed_size) {
		/* Every writer re-reads under the lock before appending, so
		   bytes we did not parse are a crashed writer's partial line. */
		log_warning("%s: removing a partial line left by a crashed writer", path);
		if (ftruncate(fd, (off_t)ul->parsed_size) < 0) {
			mailbox_error_errno(err, errno, "ftruncate(%s) failed", path);
			goto out_close;
		}
	}
	if (!write_all(fd, buf_data(&out), buf_len(&out))) {
		mailbox_error_errno(err, errno, "write(%s) failed", path);
		/* Take back a partial append so no half line stays. */
		if (ftruncate(fd, (off_t)ul->parsed_size) < 0)
			log_error("ftruncate(%s) failed: %m", path);
		goto out_close;
	}
	if (do_fsync && fdatasync(fd) < 0) {
		mailbox_error_errno(err, errno, "fdatasync(%s) failed", path);
		goto out_close;
	}
	if (fstat(fd, &st) < 0) {
		mailbox_error_errno(err, errno, "fstat(%s) failed", path);
		goto out_close;
	}
	remember_lines(ul, &out, ul->parsed_size);
	ul->parsed_size += buf_len(&out);
	stat_to_ul(&st, st_r);
	ok = true;
out_close:
	close(fd);
out:
	buf_free(&out);
	return ok;
}
