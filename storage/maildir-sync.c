/*
 * Maildir synchronisation: reconciles new/ and cur/ with dovecot-uidlist
 * and roost.index, assigning UIDs to new files, noticing flag changes and
 * expunges made by anyone, and writing the index back. Runs in roost-imap,
 * roost-pop3 and roost-lda as the mail user, under the mailbox's sync lock
 * whenever it changes anything. Directory entries, the uidlist and the
 * index are all untrusted; the directories win every disagreement.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox-private.h"
#include "maildir-filename.h"
#include "xalloc.h"

/* How often a scan is repeated when the directory changed while read. */
#define SCAN_RETRIES 3

struct scan_entry {
	uint32_t name_off;
	uint16_t name_len;
	bool in_new;
	bool dup;
	uint32_t uid;
	/* Index + 1 of the old state's record this entry was copied from
	   (the file was not read again), 0 if it came from readdir. */
	uint32_t from_state;
	/* readdir's inode number (its low 32 bits; 0 if not from readdir),
	   the order in which files are cheapest to read. */
	uint32_t ino;
};

struct scan {
	struct buf names;
	struct scan_entry *entries;
	size_t count;
	size_t alloc;
};

static void scan_init(struct scan *scan)
{
	memset(scan, 0, sizeof(*scan));
	buf_init(&scan->names, UINT32_MAX - 1);
}

static void scan_deinit(struct scan *scan)
{
	buf_free(&scan->names);
	free(scan->entries);
	memset(scan, 0, sizeof(*scan));
}

static const char *scan_name(const struct scan *scan, const struct scan_entry *e)
{
	return (const char *)buf_data(&scan->names) + e->name_off;
}

static bool scan_add(struct scan *scan, const char *name, size_t len, bool in_new)
{
	struct scan_entry *e;
	size_t off = buf_len(&scan->names);

	if (!buf_append(&scan->names, name, len))
		return false;
	if (scan->count == scan->alloc) {
		scan->alloc = scan->alloc < 256 ? 256 : scan->alloc * 2;
		scan->entries = i_realloc_array(scan->entries, scan->alloc, sizeof(*scan->entries));
	}
	e = &scan->entries[scan->count++];
	memset(e, 0, sizeof(*e));
	e->name_off = (uint32_t)off;
	e->name_len = (uint16_t)len;
	e->in_new = in_new;
	return true;
}

int64_t mailbox_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/*
 * A directory's stamp in the header is settled if its mtime was already
 * old when it was recorded: a change made after that gets a later mtime.
 * File systems with nanosecond stamps advance them at least every clock
 * tick (a few ms), so a short window suffices there; whole-second stamps
 * need a full second.
 */
static bool dir_settled(int64_t hdr_mtime, int64_t hdr_check)
{
	int64_t settle = hdr_mtime % 1000000000LL != 0 ? MAILDIR_SYNC_SETTLE_FINE_NS
						       : MAILDIR_SYNC_SETTLE_NS;

	return hdr_mtime + settle <= hdr_check;
}

/*
 * Whether a directory still holds what the header says: the same mtime,
 * and a settled stamp or one recorded less than MAILDIR_SYNC_TRUST_NS ago.
 * roost records its own changes under the lock, so an unsettled stamp can
 * only miss a foreign program's change made in the same clock tick; such a
 * stamp is trusted for a moment and then the directory is read once more
 * (Dovecot's maildir sync does the same). Re-reading cur/ on every sync of
 * a busy mailbox would cost far more than it could find.
 */
static bool dir_current(int64_t hdr_mtime, int64_t hdr_check, int64_t now_mtime, int64_t now)
{
	return hdr_mtime == now_mtime &&
	       (dir_settled(hdr_mtime, hdr_check) ||
		(now >= hdr_check && now - hdr_check < MAILDIR_SYNC_TRUST_NS));
}

/*
 * Records a directory's stamp after roost's own change to it, made under
 * the lock while the old stamp held (so the index is the directory plus
 * the change). The stamp is unsettled: the directory is read once more
 * after MAILDIR_SYNC_TRUST_NS, in case a foreign program changed it at the
 * same time. An already unsettled stamp keeps its check time, so a
 * mailbox changed without pause is still read about once a second. With
 * very_dirty_syncs roost is the only writer and the stamp is settled.
 */
static void record_own_change(const struct mailbox *box, int64_t *hdr_mtime, int64_t *hdr_check,
			      const struct stat *st)
{
	bool was_settled = dir_settled(*hdr_mtime, *hdr_check);

	*hdr_mtime = mtime_ns(st);
	if (box->storage->very_dirty_syncs)
		*hdr_check = *hdr_mtime + MAILDIR_SYNC_SETTLE_NS;
	else if (was_settled)
		*hdr_check = *hdr_mtime;
}

/* Reads every plausible message name of a directory into scan. */
static bool scan_dir(int dirfd, const char *path, bool in_new, struct scan *scan,
		     struct mailbox_error *err)
{
	struct dirent *d;
	DIR *dir;
	int fd;
	unsigned int skipped = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return mailbox_error_errno(err, errno, "open(%s) failed", path);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return mailbox_error_errno(err, errno, "fdopendir(%s) failed", path);
	}
	errno = 0;
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] == '.')
			continue;
		if ((d->d_type != DT_REG && d->d_type != DT_UNKNOWN) ||
		    !maildir_filename_valid(d->d_name, len)) {
			skipped++;
			continue;
		}
		if (!scan_add(scan, d->d_name, len, in_new)) {
			closedir(dir);
			return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: too many files",
						 path);
		}
		scan->entries[scan->count - 1].ino = (uint32_t)d->d_ino;
		errno = 0;
	}
	if (errno != 0) {
		int e = errno;

		closedir(dir);
		return mailbox_error_errno(err, e, "readdir(%s) failed", path);
	}
	closedir(dir);
	if (skipped > 0)
		log_debug("%s: ignored %u entries that are not message files", path, skipped);
	return true;
}

bool maildir_file_sizes(int fd, uint64_t size_hint, uint64_t *psize_r, uint64_t *vsize_r)
{
	static uint8_t block[65536];
	uint64_t size = 0, lfs = 0;
	bool prev_cr = false;

	for (;;) {
		ssize_t n = read(fd, block, sizeof(block));
		const uint8_t *p, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			break;
		p = block;
		end = block + n;
		while (p < end) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

			if (nl == NULL) {
				prev_cr = end[-1] == '\r';
				break;
			}
			if (!(nl == block ? prev_cr : nl[-1] == '\r'))
				lfs++;
			p = nl + 1;
			prev_cr = false;
		}
		size += (uint64_t)n;
		/* A short read that reaches the size fstat() gave is the end
		   of the file: most messages then take one read(), not two. */
		if (size_hint > 0 && (size_t)n < sizeof(block) && size >= size_hint)
			break;
	}
	*psize_r = size;
	*vsize_r = size + lfs;
	return true;
}

int maildir_rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* No RENAME_NOREPLACE here: link() never replaces either. */
	if (linkat(fromfd, from, tofd, to, 0) < 0)
		return -1;
	if (unlinkat(fromfd, from, 0) < 0 && errno != ENOENT) {
		int e = errno;

		(void)unlinkat(tofd, to, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int maildir_open_record(struct mailbox *box, const struct index_view *view,
			const struct mail_record *rec, int flags)
{
	char name[MAILDIR_FILENAME_MAX + 1];

	/* Names come from an index another process could have written:
	   never let one reach outside the directory. */
	if (rec->name_len == 0 || rec->name_len > MAILDIR_FILENAME_MAX ||
	    !maildir_filename_valid(index_view_name(view, rec), rec->name_len)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(name, index_view_name(view, rec), rec->name_len);
	name[rec->name_len] = '\0';
	return openat((rec->state & INDEX_REC_IN_NEW) != 0 ? box->new_fd : box->cur_fd, name,
		      flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

/* Moves every scanned new/ file into cur/ (":2," with no flags), adding
   the new names to cur. Files that vanished meanwhile are skipped; they
   were moved by someone else and show up in cur/. */
static void move_new_to_cur(struct mailbox *box, const struct scan *newscan, struct scan *cur,
			    bool *moved_r)
{
	struct buf to = BUF_INIT(MAILDIR_FILENAME_MAX + 8);
	char from[MAILDIR_FILENAME_MAX + 1];

	for (size_t i = 0; i < newscan->count; i++) {
		const struct scan_entry *e = &newscan->entries[i];
		const char *name = scan_name(newscan, e);
		struct maildir_filename fn;

		buf_reset(&to);
		(void)maildir_filename_parse(name, e->name_len, &fn);
		if (!maildir_filename_build(name, e->name_len, fn.flags, fn.keywords, &to) ||
		    buf_len(&to) > MAILDIR_FILENAME_MAX)
			continue;
		memcpy(from, name, e->name_len);
		from[e->name_len] = '\0';
		if (maildir_rename_noreplace(box->new_fd, from, box->cur_fd, buf_cstr(&to)) < 0) {
			if (errno != ENOENT && errno != EEXIST)
				log_error("rename(%s/%s, %s/%s) failed: %m", box->new_path, from,
					  box->cur_path, buf_cstr(&to));
			continue;
		}
		*moved_r = true;
		(void)scan_add(cur, buf_cstr(&to), buf_len(&to), false);
	}
	buf_free(&to);
}

/* Renames a second file with an already-used base to a fresh base, so
   both messages keep distinct UIDs. Returns false if it cannot. */
static bool rename_duplicate(struct mailbox *box, struct scan *scan, struct scan_entry *e)
{
	struct buf to = BUF_INIT(MAILDIR_FILENAME_MAX + 64);
	char from[MAILDIR_FILENAME_MAX + 1];
	const char *name = scan_name(scan, e);
	const char *colon = memchr(name, ':', e->name_len);
	int dirfd = e->in_new ? box->new_fd : box->cur_fd;
	bool ok = false;

	if (!maildir_filename_generate(box->storage->hostname, &to))
		goto out;
	if (colon != NULL && !buf_append(&to, colon, (size_t)(name + e->name_len - colon)))
		goto out;
	if (buf_len(&to) > MAILDIR_FILENAME_MAX)
		goto out;
	memcpy(from, name, e->name_len);
	from[e->name_len] = '\0';
	if (maildir_rename_noreplace(dirfd, from, dirfd, buf_cstr(&to)) < 0)
		goto out;
	log_warning("%s: duplicate file name base %s renamed to %s", box->dir, from, buf_cstr(&to));
	e->name_off = (uint32_t)buf_len(&scan->names);
	e->name_len = (uint16_t)buf_len(&to);
	ok = buf_append(&scan->names, buf_data(&to), buf_len(&to));
out:
	buf_free(&to);
	return ok;
}

int maildir_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Strict order by UID alone (0 counts as unordered): true sortedness. */
static int cmp_entries_uid(const struct scan_entry *x, const struct scan_entry *y)
{
	if (x->uid == 0 || y->uid == 0)
		return 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid ? 1 : 0;
}

/* Sorting scan entries: by UID, unknown (0) ones last in file name order. */
static const struct scan *sort_scan;

static int cmp_entries(const void *a, const void *b)
{
	const struct scan_entry *x = a, *y = b;

	if (x->uid != y->uid) {
		if (x->uid == 0)
			return 1;
		if (y->uid == 0)
			return -1;
		return x->uid < y->uid ? -1 : 1;
	}
	if (x->uid == 0) {
		int r = maildir_filename_sort_cmp(scan_name(sort_scan, x), x->name_len,
						  scan_name(sort_scan, y), y->name_len);

		if (r != 0 && maildir_filename_base_cmp(scan_name(sort_scan, x), x->name_len,
							scan_name(sort_scan, y), y->name_len) != 0)
			return r;
	}
	/* The same message seen twice: the cur/ copy first (it is the one
	   that stays; a new/ twin is the same file caught mid-move). */
	if (x->in_new != y->in_new)
		return x->in_new ? 1 : -1;
	return maildir_filename_sort_cmp(scan_name(sort_scan, x), x->name_len,
					 scan_name(sort_scan, y), y->name_len);
}

/* Removes old tmp/ files (crashed writers) at most every few hours. */
static void maybe_cleanup_tmp(struct mailbox *box, struct index_header *hdr)
{
	int64_t now = (int64_t)time(NULL);
	int n;

	if (box->readonly || now - hdr->tmp_scan_time < MAILDIR_TMP_SCAN_INTERVAL)
		return;
	hdr->tmp_scan_time = now;
	n = mailbox_cleanup_tmp(box, MAILDIR_TMP_MAX_AGE, NULL);
	if (n > 0)
		log_info("%s: deleted %d stale files from tmp/", box->dir, n);
}

/* The uidlist could not be used: rebuild it from the index when that is
   valid (keeping UIDs and UIDVALIDITY), else start a new UIDVALIDITY. */
static void uidlist_rebuild(struct mailbox *box, const struct index_view *state, bool state_valid)
{
	struct maildir_uidlist *ul = &box->uidlist;

	maildir_uidlist_reset(ul);
	if (state_valid) {
		maildir_uidlist_new_header(ul, state->hdr.uidvalidity);
		for (size_t i = 0; i < state->count; i++) {
			const struct mail_record *rec = &state->recs[i];

			(void)maildir_uidlist_add_uid(ul, rec->uid, index_view_name(state, rec),
						      rec->name_len);
		}
		if (state->hdr.next_uid > ul->next_uid)
			ul->next_uid = state->hdr.next_uid;
	} else {
		maildir_uidlist_new_header(ul, mailbox_new_uidvalidity(box->storage));
	}
}

/*
 * Files whose sizes neither their names, the uidlist nor the old index
 * know (a Maildir another MDA filled, opened for the first time) are read
 * once, after the scan, by read_sizes: in inode order, with the next
 * MAILDIR_SIZES_READAHEAD files already opened and their reading started
 * (posix_fadvise WILLNEED). On a cold page cache the disk then serves many
 * requests at once instead of one file after the other, which cut the
 * first open of 50,000 such files from 3.1 s to 1.6 s (bench/imap, 1f).
 */
#define MAILDIR_SIZES_READAHEAD 64

struct size_job {
	uint32_t rec; /* index in the new state's records */
	uint32_t ino; /* readdir's inode number, low 32 bits */
};

struct size_jobs {
	struct size_job *jobs;
	size_t count;
	size_t alloc;
};

static void size_jobs_add(struct size_jobs *jobs, uint32_t rec, uint32_t ino)
{
	if (jobs->count == jobs->alloc) {
		jobs->alloc = jobs->alloc < 256 ? 256 : jobs->alloc * 2;
		jobs->jobs = i_realloc_array(jobs->jobs, jobs->alloc, sizeof(*jobs->jobs));
	}
	jobs->jobs[jobs->count].rec = rec;
	jobs->jobs[jobs->count].ino = ino;
	jobs->count++;
}

static int cmp_size_jobs(const void *a, const void *b)
{
	const struct size_job *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec ? 1 : 0;
}

/* Sets the sizes of rec from the file name, the uidlist or the old
   record; false if only reading the file can tell (see read_sizes). */
static bool fill_sizes(struct mailbox *box, struct mail_record *rec,
		       const struct maildir_filename *fn, const struct mail_record *old)
{
	const struct maildir_uidlist_rec *urec = NULL;
	bool have_p = false, have_v = false;
	uint64_t psize = 0, vsize = 0;

	if ((!fn->has_psize || !fn->has_vsize) && old == NULL) {
		ssize_t uidx = maildir_uidlist_lookup_uid(&box->uidlist, rec->uid);

		urec = uidx >= 0 ? &box->uidlist.recs[uidx] : NULL;
	}

	if (fn->has_psize) {
		psize = fn->psize;
		have_p = true;
	} else if (urec != NULL && (urec->flags & MAILDIR_UIDLIST_REC_PSIZE) != 0) {
		psize = urec->psize;
		have_p = true;
	} else if (old != NULL) {
		psize = old->psize;
		have_p = true;
	}
	if (fn->has_vsize) {
		vsize = fn->vsize;
		have_v = true;
	} else if (urec != NULL && (urec->flags & MAILDIR_UIDLIST_REC_VSIZE) != 0) {
		vsize = urec->vsize;
		have_v = true;
	} else if (old != NULL) {
		vsize = old->vsize;
		have_v = true;
	}
	rec->psize = psize;
	rec->vsize = vsize;
	return have_p && have_v;
}

/* Opens rec's file and starts reading it in the background; -1 if it
   cannot be opened now (read_one_size tries again). Out of descriptors,
   it clears *ahead_r: the rest are opened one at a time. */
static int open_ahead(struct mailbox *box, const struct index_view *view,
		      const struct mail_record *rec, bool *ahead_r)
{
	int fd;

	if (!*ahead_r)
		return -1;
	fd = maildir_open_record(box, view, rec, O_RDONLY);
	if (fd >= 0)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	else if (errno == EMFILE || errno == ENFILE)
		*ahead_r = false;
	return fd;
}

/* Reads the sizes of rec from its file (fd, or opened here if -1) and
   closes it; false if the file is gone or unreadable. */
static bool read_one_size(struct mailbox *box, const struct index_view *view,
			  struct mail_record *rec, int fd, bool *ul_dirty)
{
	struct stat st;
	uint64_t psize, vsize;
	ssize_t uidx;

	if (fd < 0)
		fd = maildir_open_record(box, view, rec, O_RDONLY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !maildir_file_sizes(fd, (uint64_t)st.st_size, &psize, &vsize)) {
		close(fd);
		return false;
	}
	close(fd);
	rec->internal_date = (int64_t)st.st_mtim.tv_sec;
	rec->psize = psize;
	rec->vsize = vsize;
	uidx = maildir_uidlist_lookup_uid(&box->uidlist, rec->uid);
	if (uidx >= 0) {
		/* Remember in the uidlist too, as Dovecot does, so a rebuilt
		   index need not read the file again. */
		struct maildir_uidlist_rec *w = &box->uidlist.recs[uidx];

		w->psize = psize;
		w->vsize = vsize;
		w->flags |= MAILDIR_UIDLIST_REC_PSIZE | MAILDIR_UIDLIST_REC_VSIZE;
		*ul_dirty = true;
	}
	return true;
}

/*
 * Reads the files of jobs for their sizes. Records whose file vanished
 * since readdir (or cannot be read) are dropped from view, to be found
 * again by the next sync rather than given a guessed size.
 */
static void read_sizes(struct mailbox *box, struct index_view *view, struct size_jobs *jobs,
		       bool *ul_dirty)
{
	int ring[MAILDIR_SIZES_READAHEAD];
	size_t ahead = 0, gone = 0;
	bool ahead_ok = true;

	if (jobs->count == 0)
		return;
	qsort(jobs->jobs, jobs->count, sizeof(*jobs->jobs), cmp_size_jobs);
	for (size_t i = 0; i < jobs->count; i++) {
		struct mail_record *rec = &view->recs[jobs->jobs[i].rec];

		for (; ahead < jobs->count && ahead < i + MAILDIR_SIZES_READAHEAD; ahead++)
			ring[ahead % MAILDIR_SIZES_READAHEAD] = open_ahead(
				box, view, &view->recs[jobs->jobs[ahead].rec], &ahead_ok);
		if (!read_one_size(box, view, rec, ring[i % MAILDIR_SIZES_READAHEAD], ul_dirty)) {
			rec->uid = 0;
			gone++;
		}
	}
	if (gone > 0) {
		size_t kept = 0;

		for (size_t i = 0; i < view->count; i++) {
			if (view->recs[i].uid != 0)
				view->recs[kept++] = view->recs[i];
		}
		view->count = kept;
	}
}

struct sync_stats {
	struct stat new_st;
	struct stat cur_st;
	int64_t new_check;
	int64_t cur_check;
};

/*
 * The full synchronisation, with the sync lock held. state holds the last
 * index (state_valid) or nothing; it is replaced by the new state.
 */
static bool full_sync(struct mailbox *box, struct index_view *state, bool state_valid,
		      bool index_corrupt, bool force_scan, struct mailbox_error *err)
{
	struct maildir_uidlist *ul = &box->uidlist;
	struct maildir_uidlist_stat ul_st;
	struct index_view out;
	struct scan newscan, curscan, moved_scan;
	struct size_jobs jobs;
	struct sync_stats ss;
	bool scan_new, scan_cur, moved = false, ul_rewrite = false, ul_dirty = false;
	bool had_uidlist, cur_was_current, ok = false;
	size_t ul_first_new;
	uint64_t new_modseq = 0;
	uint32_t first_recent = 0;
	int64_t now = (int64_t)time(NULL);
	size_t oi = 0;
	struct mailbox_error local;
	int r;

	if (err == NULL)
		err = &local;
	index_view_init(&out);
	scan_init(&newscan);
	scan_init(&curscan);
	scan_init(&moved_scan);
	memset(&jobs, 0, sizeof(jobs));

	/* 1. The uidlist: the UID truth. */
	r = maildir_uidlist_read(ul, box->uidlist_path,
				 box->uidlist_loaded ? &box->uidlist_st : NULL, &ul_st, err);
	had_uidlist = r > 0;
	if (r < 0) {
		log_warning("%s: %s: rebuilding dovecot-uidlist", box->dir, err->text);
		mailbox_error_clear(err);
	}
	if (r <= 0) {
		if (r == 0 && state_valid)
			log_warning("%s: dovecot-uidlist is missing: recreating it from %s",
				    box->dir, box->index_path != NULL ? box->index_path : "memory");
		uidlist_rebuild(box, state, state_valid);
		ul_rewrite = true;
		memset(&ul_st, 0, sizeof(ul_st));
	} else if (state_valid && state->hdr.uidvalidity != ul->uidvalidity) {
		log_warning("%s: index UIDVALIDITY %u differs from dovecot-uidlist's %u: "
			    "rebuilding the index",
			    box->dir, state->hdr.uidvalidity, ul->uidvalidity);
		out.hdr.highest_modseq = state->hdr.highest_modseq;
		state_valid = false;
	}
	box->uidlist_loaded = true;
	box->uidlist_st = ul_st;
	if (had_uidlist && !state_valid && !index_corrupt && box->index_path != NULL &&
	    access(box->index_path, F_OK) < 0)
		log_warning("%s: %s is missing: rebuilding it from the Maildir", box->dir,
			    box->index_path);
	ul_first_new = ul->count;

	if (!mailbox_keywords_refresh(box, err))
		goto out;

	/* 2. The directories. new/ first, then cur/: a file moving from new/
	   to cur/ meanwhile is then seen twice rather than not at all. */
	if (fstat(box->cur_fd, &ss.cur_st) < 0 || fstat(box->new_fd, &ss.new_st) < 0)
		goto fail_errno;
	ss.new_check = ss.cur_check = mailbox_now_ns();
	cur_was_current = state_valid && !force_scan &&
			  dir_current(state->hdr.cur_mtime_ns, state->hdr.cur_check_ns,
				      mtime_ns(&ss.cur_st), ss.cur_check);
	scan_new = force_scan || !state_valid ||
		   !dir_current(state->hdr.new_mtime_ns, state->hdr.new_check_ns,
				mtime_ns(&ss.new_st), ss.new_check);
	if (scan_new) {
		if (!scan_dir(box->new_fd, box->new_path, true, &newscan, err))
			goto out;
		if (!box->no_moves && newscan.count > 0) {
			move_new_to_cur(box, &newscan, &moved_scan, &moved);
			if (fstat(box->new_fd, &ss.new_st) < 0)
				goto fail_errno;
			ss.new_check = mailbox_now_ns();
			/* Entries we could not move stay in new/. */
			if (moved) {
				struct scan rest;

				scan_init(&rest);
				if (!scan_dir(box->new_fd, box->new_path, true, &rest, err)) {
					scan_deinit(&rest);
					goto out;
				}
				scan_deinit(&newscan);
				newscan = rest;
			}
		}
	} else {
		for (size_t i = 0; i < state->count; i++) {
			const struct mail_record *rec = &state->recs[i];

			if ((rec->state & INDEX_REC_IN_NEW) != 0)
				(void)scan_add(&newscan, index_view_name(state, rec), rec->name_len,
					       true);
		}
	}
	/* If cur/ matched the index before our own moves, its contents are
	   the index's cur/ messages plus the moved ones: no need to read it.
	   Its new mtime is recorded as unsettled so the next sync reads it
	   once, in case someone else changed it in the same instant. */
	scan_cur = !cur_was_current;
	if (scan_cur && moved) {
		if (fstat(box->cur_fd, &ss.cur_st) < 0)
			goto fail_errno;
		ss.cur_check = mailbox_now_ns();
	}
	if (scan_cur) {
		/* Names we moved are in cur/ now and are read again. */
		for (int tries = 0;; tries++) {
			struct stat after;

			curscan.count = 0;
			buf_reset(&curscan.names);
			if (!scan_dir(box->cur_fd, box->cur_path, false, &curscan, err))
				goto out;
			if (fstat(box->cur_fd, &after) < 0)
				goto fail_errno;
			if (mtime_ns(&after) == mtime_ns(&ss.cur_st) || tries + 1 >= SCAN_RETRIES)
				break;
			/* Changed while we read it: a renamed file could have
			   been missed. Read it again. */
			ss.cur_st = after;
			ss.cur_check = mailbox_now_ns();
		}
	} else {
		/* If the uidlist is the one the index was built from, the
		   index's UIDs need no lookup. */
		bool same_ul = state->hdr.uidlist_ino == ul_st.ino &&
			       state->hdr.uidlist_dev == ul_st.dev && !ul_rewrite &&
			       ((state->hdr.uidlist_size == ul_st.size &&
				 state->hdr.uidlist_mtime_ns == ul_st.mtime_ns) ||
				(state->hdr.uidlist_size < ul_st.size && ul->last_read_appended));

		for (size_t i = 0; i < state->count; i++) {
			const struct mail_record *rec = &state->recs[i];

			if ((rec->state & INDEX_REC_IN_NEW) == 0 &&
			    scan_add(&curscan, index_view_name(state, rec), rec->name_len, false) &&
			    same_ul) {
				curscan.entries[curscan.count - 1].uid = rec->uid;
				curscan.entries[curscan.count - 1].from_state = (uint32_t)i + 1;
			}
		}
		for (size_t i = 0; i < moved_scan.count; i++)
			(void)scan_add(&curscan, scan_name(&moved_scan, &moved_scan.entries[i]),
				       moved_scan.entries[i].name_len, false);
	}
	/* One list: cur/ entries first so they win over stale new/ ones. */
	for (size_t i = 0; i < newscan.count; i++)
		(void)scan_add(&curscan, scan_name(&newscan, &newscan.entries[i]),
			       newscan.entries[i].name_len, true);

	/* 3. UIDs for every file; duplicates of a base get a new base. */
	{
		bool sorted = true;

		for (size_t i = 0; i < curscan.count; i++) {
			struct scan_entry *e = &curscan.entries[i];

			if (e->uid == 0) {
				ssize_t idx = maildir_uidlist_lookup(ul, scan_name(&curscan, e),
								     e->name_len);

				e->uid = idx >= 0 ? ul->recs[idx].uid : 0;
			}
			if (i > 0 && cmp_entries_uid(&curscan.entries[i - 1], e) >= 0)
				sorted = false;
		}
		sort_scan = &curscan;
		if (!sorted)
			qsort(curscan.entries, curscan.count, sizeof(*curscan.entries),
			      cmp_entries);
	}
	for (size_t i = 1; i < curscan.count; i++) {
		struct scan_entry *e = &curscan.entries[i], *prev = &curscan.entries[i - 1];

		if (e->uid != 0 && e->uid == prev->uid) {
			if (e->in_new && !prev->in_new) {
				/* Seen in new/ and in cur/: the same file, moved. */
				e->dup = true;
			} else if (box->no_moves || !rename_duplicate(box, &curscan, e)) {
				e->dup = true;
			} else {
				e->uid = 0;
			}
		} else if (e->uid == 0 && prev->uid == 0 &&
			   maildir_filename_base_cmp(scan_name(&curscan, e), e->name_len,
						     scan_name(&curscan, prev),
						     prev->name_len) == 0) {
			if (e->in_new && !prev->in_new)
				e->dup = true;
			else if (box->no_moves || !rename_duplicate(box, &curscan, e))
				e->dup = true;
		}
	}
	/* Unknown files get UIDs in file name (delivery time) order; they
	   sort last, after any renamed duplicates got uid 0 above. */
	{
		bool unknown = false;

		for (size_t i = 0; i < curscan.count && !unknown; i++)
			unknown = curscan.entries[i].uid == 0 && !curscan.entries[i].dup;
		if (unknown && curscan.count > 1)
			qsort(curscan.entries, curscan.count, sizeof(*curscan.entries),
			      cmp_entries);
	}
	for (size_t i = 0; i < curscan.count; i++) {
		struct scan_entry *e = &curscan.entries[i];

		if (e->uid != 0 || e->dup)
			continue;
		e->uid = maildir_uidlist_add(ul, scan_name(&curscan, e), e->name_len);
		if (e->uid == 0) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: out of UIDs", box->dir);
			goto out;
		}
		if (first_recent == 0 || e->uid < first_recent)
			first_recent = e->uid;
	}

	/* 4. Build the new state, merging with the old one by UID. */
	out.hdr = state_valid ? state->hdr : out.hdr;
	out.hdr.uidvalidity = ul->uidvalidity;
	if (state_valid && state->expunge_count > 0) {
		out.expunges = i_malloc(state->expunge_count * sizeof(*out.expunges));
		memcpy(out.expunges, state->expunges, state->expunge_count * sizeof(*out.expunges));
		out.expunge_count = out.expunge_alloc = state->expunge_count;
	}
	if (!state_valid) {
		/* Never let modseqs go backwards across a rebuild: start past
		   any value handed out before (time-based). */
		uint64_t base = ((uint64_t)now << 16);

		if (out.hdr.highest_modseq < base)
			out.hdr.highest_modseq = base;
		out.hdr.first_recent_uid = 0;
	}
	new_modseq = out.hdr.highest_modseq + 1;
	out.alloc = curscan.count + 1;
	out.recs = i_malloc(out.alloc * sizeof(*out.recs));
	if (buf_reserve(&out.names, buf_len(&curscan.names)) == NULL) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: too many files", box->dir);
		goto out;
	}
	{
		bool changed = false;

		for (size_t i = 0; i < curscan.count; i++) {
			const struct scan_entry *e = &curscan.entries[i];
			const char *name = scan_name(&curscan, e);
			const struct mail_record *old = NULL;
			struct maildir_filename fn;
			struct mail_record *rec;

			if (e->dup || e->uid == 0)
				continue;
			while (state_valid && oi < state->count && state->recs[oi].uid < e->uid) {
				/* In the index but gone from disk: expunged. */
				index_view_log_expunge(&out, state->recs[oi].uid, new_modseq);
				changed = true;
				oi++;
			}
			if (state_valid && oi < state->count && state->recs[oi].uid == e->uid)
				old = &state->recs[oi++];
			if (e->from_state != 0 && old == &state->recs[e->from_state - 1]) {
				/* Same file as in the index: nothing to re-derive. */
				rec = index_view_append(&out);
				*rec = *old;
				if (!index_view_set_name(&out, rec, name, e->name_len)) {
					mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
							  "%s: too many files", box->dir);
					goto out;
				}
				continue;
			}
			(void)maildir_filename_parse(name, e->name_len, &fn);
			rec = index_view_append(&out);
			rec->uid = e->uid;
			if (!index_view_set_name(&out, rec, name, e->name_len)) {
				mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: too many files",
						  box->dir);
				goto out;
			}
			rec->state = e->in_new ? INDEX_REC_IN_NEW : 0;
			rec->flags = e->in_new ? 0 : (fn.flags & MAIL_FLAGS_MASK);
			rec->keywords = e->in_new ? 0 : (fn.keywords & MAIL_KEYWORDS_MASK);
			if (old != NULL) {
				rec->internal_date = old->internal_date;
				rec->save_date = old->save_date;
				rec->cache_off = old->cache_off;
				rec->modseq = old->modseq;
				if (old->flags != rec->flags || old->keywords != rec->keywords) {
					rec->modseq = new_modseq;
					changed = true;
				}
			} else {
				rec->modseq = new_modseq;
				rec->save_date = state_valid ? now : INDEX_DATE_UNKNOWN;
				changed = true;
			}
			if (!fill_sizes(box, rec, &fn, old))
				size_jobs_add(&jobs, (uint32_t)(out.count - 1), e->ino);
			if (e->in_new && (first_recent == 0 || e->uid < first_recent) &&
			    !state_valid)
				first_recent = e->uid;
		}
		while (state_valid && oi < state->count) {
			index_view_log_expunge(&out, state->recs[oi].uid, new_modseq);
			changed = true;
			oi++;
		}
		read_sizes(box, &out, &jobs, &ul_dirty);
		free(jobs.jobs);
		memset(&jobs, 0, sizeof(jobs));
		if (changed)
			out.hdr.highest_modseq = new_modseq;
	}
	/* The old index and the directory listings are not read past this
	   point. Freeing them before the uidlist and the index image are
	   written keeps one copy of a large mailbox's list in memory at the
	   peak instead of four (bench/store measured 2 MB at 10,000 mails). */
	scan_deinit(&newscan);
	scan_deinit(&curscan);
	scan_deinit(&moved_scan);
	if (state_valid) {
		index_view_deinit(state);
		index_view_init(state);
	}

	/* 5. Uidlist records of files that are gone are stale; drop them when
	   enough pile up (appending is much cheaper than rewriting). */
	{
		size_t oj = 0;

		for (size_t i = 0; i < ul->count; i++) {
			uint32_t uid = ul->recs[i].uid;

			while (oj < out.count && out.recs[oj].uid < uid)
				oj++;
			if (uid != 0 && (oj == out.count || out.recs[oj].uid != uid)) {
				bool pending = false;

				/* A record appended by a writer whose file we
				   did not see yet is not stale if it is newer
				   than everything here. */
				pending = i >= ul_first_new;
				if (!pending)
					maildir_uidlist_remove(ul, i);
			}
		}
		if (maildir_uidlist_want_compact(ul))
			ul_rewrite = true;
	}
	if (!box->readonly && ul_dirty)
		ul_rewrite = true;
	if (ul_rewrite) {
		if (!maildir_uidlist_write(ul, box->uidlist_path,
					   box->storage->fsync != MAIL_FSYNC_NEVER,
					   &box->uidlist_st, err))
			goto out;
	} else if (ul->count > ul_first_new) {
		if (!maildir_uidlist_append(ul, box->uidlist_path, ul_first_new,
					    box->storage->fsync == MAIL_FSYNC_ALWAYS,
					    &box->uidlist_st, err))
			goto out;
	}

	/* 6. Header. */
	out.hdr.next_uid = ul->next_uid;
	out.hdr.new_mtime_ns = mtime_ns(&ss.new_st);
	out.hdr.new_check_ns = ss.new_check;
	if (scan_cur) {
		out.hdr.cur_mtime_ns = mtime_ns(&ss.cur_st);
		out.hdr.cur_check_ns = ss.cur_check;
	} else if (moved) {
		if (fstat(box->cur_fd, &ss.cur_st) < 0)
			goto fail_errno;
		record_own_change(box, &out.hdr.cur_mtime_ns, &out.hdr.cur_check_ns, &ss.cur_st);
	}
	out.hdr.uidlist_ino = box->uidlist_st.ino;
	out.hdr.uidlist_dev = box->uidlist_st.dev;
	out.hdr.uidlist_size = box->uidlist_st.size;
	out.hdr.uidlist_mtime_ns = box->uidlist_st.mtime_ns;
	if (!state_valid) {
		out.hdr.first_recent_uid = first_recent != 0 ? first_recent : ul->next_uid;
		out.hdr.cache_file_id = 0;
		for (size_t i = 0; i < out.count; i++)
			out.recs[i].cache_off = 0;
	} else if (out.hdr.first_recent_uid == 0) {
		out.hdr.first_recent_uid = ul->next_uid;
	}
	if ((box->flags & MAILBOX_OPEN_CLAIM_RECENT) != 0 &&
	    out.hdr.first_recent_uid < out.hdr.next_uid) {
		mailbox_recent_add(box, out.hdr.first_recent_uid, out.hdr.next_uid);
		out.hdr.first_recent_uid = out.hdr.next_uid;
	}
	maybe_cleanup_tmp(box, &out.hdr);
	maildir_sync_merge_local(box, &out);

	/* 7. The index. */
	if (!maildir_sync_write_index(box, &out, err))
		goto out;
	index_view_move(state, &out);
	ok = true;
	goto out;
fail_errno:
	mailbox_error_errno(err, errno, "%s: fstat failed", box->dir);
out:
	index_view_deinit(&out);
	scan_deinit(&newscan);
	scan_deinit(&curscan);
	scan_deinit(&moved_scan);
	free(jobs.jobs);
	return ok;
}

bool maildir_sync_write_index(struct mailbox *box, struct index_view *state,
			      struct mailbox_error *err)
{
	struct mailbox_error local;

	if (err == NULL)
		err = &local;
	if (box->index_path == NULL) {
		/* INDEX=MEMORY: the "file" is this process's copy. */
		state->hdr.generation++;
		index_view_copy(&box->mem_index, state);
		box->mem_index_valid = true;
		box->index_st.ino = state->hdr.generation;
		box->index_st_valid = true;
		return true;
	}
	if (!index_file_write(state, box->index_path, &box->index_st, err)) {
		/* The Maildir and uidlist are already consistent; a missing
		   index write only costs the next session a rescan. */
		log_error("%s", err->text);
		mailbox_error_clear(err);
		box->index_st_valid = false;
		return true;
	}
	box->index_st_valid = true;
	return true;
}

void maildir_sync_merge_local(struct mailbox *box, struct index_view *state)
{
	size_t vi = 0;

	if (!box->dates_dirty || !box->view_loaded)
		return;
	for (size_t i = 0; i < state->count; i++) {
		struct mail_record *rec = &state->recs[i];

		while (vi < box->view.count && box->view.recs[vi].uid < rec->uid)
			vi++;
		if (vi == box->view.count)
			break;
		if (box->view.recs[vi].uid != rec->uid)
			continue;
		if (rec->internal_date == INDEX_DATE_UNKNOWN)
			rec->internal_date = box->view.recs[vi].internal_date;
	}
	box->dates_dirty = false;
}

bool maildir_cur_change_begin(struct mailbox *box, const struct index_header *hdr)
{
	struct stat st;

	return fstat(box->cur_fd, &st) == 0 &&
	       dir_current(hdr->cur_mtime_ns, hdr->cur_check_ns, mtime_ns(&st), mailbox_now_ns());
}

void maildir_cur_change_end(struct mailbox *box, struct index_header *hdr, bool was_current)
{
	struct stat st;

	if (!was_current || fstat(box->cur_fd, &st) < 0)
		return;
	record_own_change(box, &hdr->cur_mtime_ns, &hdr->cur_check_ns, &st);
}

bool maildir_sync_dirs_current(const struct index_header *hdr, const struct stat *new_st,
			       const struct stat *cur_st, const struct stat *ul)
{
	int64_t now = mailbox_now_ns();

	return dir_current(hdr->new_mtime_ns, hdr->new_check_ns, mtime_ns(new_st), now) &&
	       dir_current(hdr->cur_mtime_ns, hdr->cur_check_ns, mtime_ns(cur_st), now) &&
	       (uint64_t)ul->st_ino == hdr->uidlist_ino &&
	       (uint64_t)ul->st_dev == hdr->uidlist_dev &&
	       (uint64_t)ul->st_size == hdr->uidlist_size && mtime_ns(ul) == hdr->uidlist_mtime_ns;
}

/* Whether state (a loaded index) still describes the disk. */
static bool state_current(struct mailbox *box, const struct index_view *state)
{
	struct stat new_st, cur_st, ul;

	if (fstat(box->new_fd, &new_st) < 0 || fstat(box->cur_fd, &cur_st) < 0 ||
	    stat(box->uidlist_path, &ul) < 0)
		return false;
	if (!maildir_sync_dirs_current(&state->hdr, &new_st, &cur_st, &ul))
		return false;
	if ((box->flags & MAILBOX_OPEN_CLAIM_RECENT) != 0 &&
	    state->hdr.first_recent_uid < state->hdr.next_uid)
		return false;
	return true;
}

/* Loads the index into state: 1 loaded, 0 missing, -1 corrupt (logged
   unless quiet). */
static int load_index(struct mailbox *box, struct index_view *state, bool quiet)
{
	struct mailbox_error why;
	struct index_file_stat st;
	int r;

	if (box->index_path == NULL) {
		if (!box->mem_index_valid)
			return 0;
		index_view_copy(state, &box->mem_index);
		return 1;
	}
	r = index_file_read(state, box->index_path, &st, &why);
	if (r < 0) {
		if (!quiet)
			log_warning("%s: rebuilding the index", why.text);
		/* Do not trust or reuse anything from it. */
		index_view_deinit(state);
		index_view_init(state);
		return -1;
	}
	if (r > 0) {
		box->index_st = st;
		box->index_st_valid = true;
	}
	return r;
}

bool maildir_sync_state(struct mailbox *box, struct lock_file *lock, bool force_scan,
			struct index_view *state, struct mailbox_error *err)
{
	struct lock_file *own_lock = NULL;
	int r;
	bool ok;

	index_view_deinit(state);
	index_view_init(state);
	if (!force_scan && lock == NULL) {
		r = load_index(box, state, true);
		if (r > 0 && state_current(box, state))
			return true;
	}
	if (lock == NULL) {
		r = mailbox_sync_lock(box, &own_lock, err);
		if (r <= 0)
			return false;
	}
	/* Another process may have synced while we waited. */
	r = load_index(box, state, false);
	if (r > 0 && !force_scan && state_current(box, state)) {
		lock_file_release(&own_lock);
		return true;
	}
	ok = full_sync(box, state, r > 0, r < 0, force_scan, err);
	lock_file_release(&own_lock);
	return ok;
}

int64_t maildir_sync_recheck_ns(const struct index_header *hdr)
{
	int64_t now = mailbox_now_ns(), wait = 0;
	const int64_t stamps[2][2] = {{hdr->new_mtime_ns, hdr->new_check_ns},
				      {hdr->cur_mtime_ns, hdr->cur_check_ns}};

	for (int i = 0; i < 2; i++) {
		int64_t left = stamps[i][1] + MAILDIR_SYNC_TRUST_NS - now;

		if (!dir_settled(stamps[i][0], stamps[i][1]) && left > wait)
			wait = left;
	}
	return wait;
}
