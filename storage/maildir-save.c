/*
 * Saving messages (delivery, APPEND) and copying them between mailboxes.
 * Runs in roost-lda and roost-imap as the mail user. The order of steps is
 * what makes a crash at any instant harmless: the bytes go to tmp/ (not a
 * message yet), are fsynced, are moved into new/ or cur/ with a name that
 * never replaces another, the directory is fsynced, and only then is a UID
 * appended to dovecot-uidlist. A file in new/ or cur/ without a UID gets one
 * at the next sync; a UID is only ever given under the sync lock after
 * re-reading the uidlist, so one file never gets two.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox-private.h"
#include "maildir-filename.h"
#include "xalloc.h"

#ifdef ROOST_TEST_HOOKS
void (*maildir_save_test_hook)(int step);
#define SAVE_HOOK(step)                               \
	do {                                          \
		if (maildir_save_test_hook != NULL)   \
			maildir_save_test_hook(step); \
	} while (0)
#else
#define SAVE_HOOK(step) \
	do {            \
	} while (0)
#endif

#define SAVE_BUF_SIZE 65536

struct pending_file {
	char tmp_name[MAILDIR_FILENAME_MAX + 1];
	char final_name[MAILDIR_FILENAME_MAX + 1];
	bool to_cur;
	bool moved;
	uint32_t uid;
};

struct mailbox_save {
	struct mailbox *box;
	struct mailbox_save_params params;
	int fd;
	char tmp_name[MAILDIR_FILENAME_MAX + 1];
	uint64_t psize;
	uint64_t bare_lfs;
	bool last_out_cr;
	bool pending_cr;
	uint8_t *wbuf;
	size_t wlen;
};

static bool fsync_enabled(const struct mailbox *box)
{
	return box->storage->fsync != MAIL_FSYNC_NEVER;
}

/* Creates a new file in tmp/ with a unique name. */
static int create_tmp(struct mailbox *box, char *name_r, struct mailbox_error *err)
{
	for (int tries = 0; tries < 10; tries++) {
		struct buf name = BUF_INIT(MAILDIR_FILENAME_MAX - 40);
		int fd;

		if (!maildir_filename_generate(box->storage->hostname, &name)) {
			buf_free(&name);
			mailbox_error_set(err, MAILBOX_ERROR_TEMP, "cannot build a file name");
			return -1;
		}
		str_copy(name_r, MAILDIR_FILENAME_MAX + 1, buf_cstr(&name));
		buf_free(&name);
		fd = openat(box->tmp_fd, name_r,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    box->storage->file_mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			mailbox_error_errno(err, errno, "open(%s/%s) failed", box->tmp_path,
					    name_r);
			return -1;
		}
	}
	mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: cannot find a unique file name",
			  box->tmp_path);
	return -1;
}

static bool check_can_save(struct mailbox *box, struct mailbox_error *err)
{
	if (box->readonly)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED, "Mailbox is read-only");
	return mail_storage_check_mounted(box->storage, err);
}

bool mailbox_save_begin(struct mailbox *box, const struct mailbox_save_params *params,
			struct mailbox_save **save_r, struct mailbox_error *err)
{
	struct mailbox_save *save;
	int fd;

	*save_r = NULL;
	if (!check_can_save(box, err))
		return false;
	if (params->expected_size > 0 && !mailbox_quota_check(box, params->expected_size, 1, err))
		return false;
	save = i_calloc(1, sizeof(*save));
	fd = create_tmp(box, save->tmp_name, err);
	if (fd < 0) {
		free(save);
		return false;
	}
	SAVE_HOOK(1);
	save->box = box;
	save->params = *params;
	save->params.flags &= MAIL_FLAGS_MASK;
	save->params.keywords &= MAIL_KEYWORDS_MASK;
	save->fd = fd;
	save->wbuf = i_malloc(SAVE_BUF_SIZE);
	*save_r = save;
	return true;
}

static bool flush_wbuf(struct mailbox_save *save, struct mailbox_error *err)
{
	size_t done = 0;

	while (done < save->wlen) {
		ssize_t n = write(save->fd, save->wbuf + done, save->wlen - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mailbox_error_errno(err, n == 0 ? ENOSPC : errno,
						   "write(%s/%s) failed", save->box->tmp_path,
						   save->tmp_name);
		done += (size_t)n;
	}
	save->wlen = 0;
	return true;
}

/* Appends output bytes, counting LFs that have no CR before them. */
static bool emit(struct mailbox_save *save, const uint8_t *p, size_t len, struct mailbox_error *err)
{
	if (save->psize + len > MAILDIR_SIZE_MAX || save->psize + len < save->psize)
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "Message too large");
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !(i == 0 ? save->last_out_cr : p[i - 1] == '\r'))
			save->bare_lfs++;
	}
	if (len > 0)
		save->last_out_cr = p[len - 1] == '\r';
	save->psize += len;
	while (len > 0) {
		size_t n = SAVE_BUF_SIZE - save->wlen;

		if (n > len)
			n = len;
		memcpy(save->wbuf + save->wlen, p, n);
		save->wlen += n;
		p += n;
		len -= n;
		if (save->wlen == SAVE_BUF_SIZE && !flush_wbuf(save, err))
			return false;
	}
	return true;
}

bool mailbox_save_write(struct mailbox_save *save, const void *data, size_t len,
			struct mailbox_error *err)
{
	const uint8_t *p = data, *end = p + len;

	if (!save->params.crlf_to_lf)
		return emit(save, p, len, err);
	while (p < end) {
		const uint8_t *cr;

		if (save->pending_cr) {
			save->pending_cr = false;
			if (*p != '\n' && !emit(save, (const uint8_t *)"\r", 1, err))
				return false;
		}
		cr = memchr(p, '\r', (size_t)(end - p));
		if (cr == NULL)
			return emit(save, p, (size_t)(end - p), err);
		if (!emit(save, p, (size_t)(cr - p), err))
			return false;
		save->pending_cr = true;
		p = cr + 1;
	}
	return true;
}

static void save_free(struct mailbox_save **savep, bool unlink_tmp)
{
	struct mailbox_save *save = *savep;

	if (save->fd >= 0)
		close(save->fd);
	if (unlink_tmp && unlinkat(save->box->tmp_fd, save->tmp_name, 0) < 0 && errno != ENOENT)
		log_error("unlink(%s/%s) failed: %m", save->box->tmp_path, save->tmp_name);
	free(save->wbuf);
	I_FREE(*savep);
}

void mailbox_save_abort(struct mailbox_save **save)
{
	if (*save != NULL)
		save_free(save, true);
}

/* Fsyncs a directory so a rename into it survives a power cut. */
static bool fsync_dir(int fd, const char *path, struct mailbox_error *err)
{
	if (fsync(fd) < 0 && errno != EINVAL)
		return mailbox_error_errno(err, errno, "fsync(%s) failed", path);
	return true;
}

/* Builds "BASE,S=..,W=..[:2,FLAGS]" for a message. */
static bool final_name(const char *base, uint64_t psize, uint64_t vsize, uint32_t flags,
		       uint32_t keywords, char *out, bool *to_cur_r)
{
	struct buf b = BUF_INIT(MAILDIR_FILENAME_MAX);
	bool ok;

	*to_cur_r = flags != 0 || keywords != 0;
	ok = buf_printf(&b, "%s,S=%llu,W=%llu", base, (unsigned long long)psize,
			(unsigned long long)vsize);
	if (ok && *to_cur_r)
		ok = buf_append(&b, ":2,", 3) && maildir_flags_to_letters(flags, keywords, &b);
	if (ok)
		str_copy(out, MAILDIR_FILENAME_MAX + 1, buf_cstr(&b));
	buf_free(&b);
	return ok;
}

/* Gets UIDs for moved files by a full sync (uidlist missing or unusable). */
static bool uids_by_sync(struct mailbox *box, struct lock_file *lock, struct pending_file *files,
			 size_t count, struct mailbox_error *err)
{
	struct index_view state;
	bool ok;

	index_view_init(&state);
	ok = maildir_sync_state(box, lock, true, &state, err);
	index_view_deinit(&state);
	if (!ok)
		return false;
	for (size_t i = 0; i < count; i++) {
		ssize_t idx;

		if (!files[i].moved)
			continue;
		idx = maildir_uidlist_lookup(&box->uidlist, files[i].final_name,
					     strlen(files[i].final_name));
		files[i].uid = idx >= 0 ? box->uidlist.recs[idx].uid : 0;
	}
	/* The view does not include these yet; the next sync reports them. */
	box->view_stale = true;
	return true;
}

/* Appends UIDs for the moved files to dovecot-uidlist, holding the lock. */
static bool assign_uids(struct mailbox *box, struct lock_file *lock, struct pending_file *files,
			size_t count, struct mailbox_error *err)
{
	struct maildir_uidlist ends, *ul;
	struct maildir_uidlist_stat st;
	struct mailbox_error local;
	bool save_only = (box->flags & MAILBOX_OPEN_SAVE_ONLY) != 0;
	size_t first;
	int r;

	if (err == NULL)
		err = &local;
	if (save_only && box->index_path != NULL && access(box->index_path, F_OK) < 0) {
		/* No index yet: build it now (with UIDs for our files), so
		   that a missing index later means something went wrong. */
		return uids_by_sync(box, lock, files, count, err);
	}
	if (save_only) {
		/* A delivery needs only the next UID: read the ends of the
		   file, not all of it. */
		maildir_uidlist_init(&ends);
		ul = &ends;
		r = maildir_uidlist_read_ends(ul, box->uidlist_path, &st, err);
	} else {
		ul = &box->uidlist;
		r = maildir_uidlist_read(ul, box->uidlist_path,
					 box->uidlist_loaded ? &box->uidlist_st : NULL, &st, err);
		box->uidlist_loaded = r > 0;
		if (r > 0)
			box->uidlist_st = st;
	}
	if (r <= 0) {
		if (save_only)
			maildir_uidlist_deinit(&ends);
		if (r < 0) {
			log_warning("%s: %s: syncing to assign UIDs", box->dir, err->text);
			mailbox_error_clear(err);
		}
		box->uidlist_loaded = false;
		return uids_by_sync(box, lock, files, count, err);
	}
	first = ul->count;
	for (size_t i = 0; i < count; i++) {
		if (!files[i].moved)
			continue;
		files[i].uid =
			maildir_uidlist_add(ul, files[i].final_name, strlen(files[i].final_name));
		if (files[i].uid == 0) {
			if (save_only)
				maildir_uidlist_deinit(&ends);
			return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: out of UIDs",
						 box->dir);
		}
	}
	if (!maildir_uidlist_append(ul, box->uidlist_path, first,
				    box->storage->fsync == MAIL_FSYNC_ALWAYS, &st, err)) {
		for (size_t i = 0; i < count; i++)
			files[i].uid = 0;
		if (save_only)
			maildir_uidlist_deinit(&ends);
		else
			box->uidlist_loaded = false;
		return false;
	}
	if (save_only)
		maildir_uidlist_deinit(&ends);
	else
		box->uidlist_st = st;
	box->view_stale = true;
	return true;
}

/*
 * Moves files from tmp/ into new/ or cur/ and gives them UIDs. A failure
 * before every file is in place undoes the moves (COPY is all or nothing);
 * a failure to record UIDs afterwards leaves the messages in place with
 * uid 0 (they get UIDs at the next sync) and still returns true.
 */
static bool commit_files(struct mailbox *box, struct pending_file *files, size_t count,
			 struct mailbox_error *err)
{
	struct lock_file *lock = NULL;
	bool any_new = false, any_cur = false;
	struct mailbox_error uerr, local;

	if (err == NULL)
		err = &local;
	if (mailbox_sync_lock(box, &lock, err) <= 0)
		return false;
	SAVE_HOOK(4);
	for (size_t i = 0; i < count; i++) {
		int to_fd = files[i].to_cur ? box->cur_fd : box->new_fd;

		if (maildir_rename_noreplace(box->tmp_fd, files[i].tmp_name, to_fd,
					     files[i].final_name) < 0) {
			mailbox_error_errno(err, errno, "rename(%s/%s) failed", box->tmp_path,
					    files[i].tmp_name);
			for (size_t j = 0; j < i; j++) {
				(void)unlinkat(files[j].to_cur ? box->cur_fd : box->new_fd,
					       files[j].final_name, 0);
				files[j].moved = false;
			}
			lock_file_release(&lock);
			return false;
		}
		files[i].moved = true;
		any_cur = any_cur || files[i].to_cur;
		any_new = any_new || !files[i].to_cur;
	}
	SAVE_HOOK(5);
	if (fsync_enabled(box) && ((any_new && !fsync_dir(box->new_fd, box->new_path, err)) ||
				   (any_cur && !fsync_dir(box->cur_fd, box->cur_path, err)))) {
		/* The messages are in place; only durability against a power
		   cut is in doubt. Report it, keep them. */
		log_error("%s", err->text);
		mailbox_error_clear(err);
	}
	SAVE_HOOK(6);
	if (!assign_uids(box, lock, files, count, &uerr))
		log_error("%s: messages saved but their UIDs not recorded yet: %s", box->dir,
			  uerr.text);
	SAVE_HOOK(7);
	lock_file_release(&lock);
	SAVE_HOOK(8);
	return true;
}

bool mailbox_save_finish(struct mailbox_save **savep, uint32_t *uid_r, struct mailbox_error *err)
{
	struct mailbox_save *save = *savep;
	struct mailbox *box = save->box;
	struct pending_file file;
	struct mailbox_error local;
	uint64_t vsize;

	if (err == NULL)
		err = &local;
	*uid_r = 0;
	memset(&file, 0, sizeof(file));
	if (save->pending_cr) {
		save->pending_cr = false;
		if (!emit(save, (const uint8_t *)"\r", 1, err))
			goto fail;
	}
	if (!flush_wbuf(save, err))
		goto fail;
	SAVE_HOOK(2);
	if (save->params.internal_date != INDEX_DATE_UNKNOWN) {
		struct timespec ts[2] = {{0, UTIME_NOW}, {(time_t)save->params.internal_date, 0}};

		if (futimens(save->fd, ts) < 0) {
			mailbox_error_errno(err, errno, "futimens(%s/%s) failed", box->tmp_path,
					    save->tmp_name);
			goto fail;
		}
	}
	if (fsync_enabled(box) && fsync(save->fd) < 0) {
		mailbox_error_errno(err, errno, "fsync(%s/%s) failed", box->tmp_path,
				    save->tmp_name);
		goto fail;
	}
	if (close(save->fd) < 0) {
		save->fd = -1;
		mailbox_error_errno(err, errno, "close(%s/%s) failed", box->tmp_path,
				    save->tmp_name);
		goto fail;
	}
	save->fd = -1;
	SAVE_HOOK(3);
	if (!mailbox_quota_check(box, save->psize, 1, err))
		goto fail;
	vsize = save->psize + save->bare_lfs;
	str_copy(file.tmp_name, sizeof(file.tmp_name), save->tmp_name);
	if (!final_name(save->tmp_name, save->psize, vsize, save->params.flags,
			save->params.keywords, file.final_name, &file.to_cur)) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "file name too long");
		goto fail;
	}
	if (!commit_files(box, &file, 1, err))
		goto fail;
	*uid_r = file.uid;
	save_free(savep, false);
	return true;
fail:
	save_free(savep, true);
	return false;
}

/* ---- copy ---- */

/* Copies the bytes of src message seq into a new tmp/ file of dest. */
static bool copy_bytes(struct mailbox *src, uint32_t seq, struct mailbox *dest, char *tmp_name,
		       struct mailbox_error *err)
{
	static uint8_t block[65536];
	struct stat st;
	int in, out;
	bool ok = false;

	if (!mailbox_mail_open(src, seq, &in, err))
		return false;
	out = create_tmp(dest, tmp_name, err);
	if (out < 0) {
		close(in);
		return false;
	}
	for (;;) {
		ssize_t n = read(in, block, sizeof(block));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			mailbox_error_errno(err, errno, "read(%s/...) failed", src->dir);
			goto out;
		}
		if (n == 0)
			break;
		if (write(out, block, (size_t)n) != n) {
			mailbox_error_errno(err, errno != 0 ? errno : ENOSPC, "write(%s/%s) failed",
					    dest->tmp_path, tmp_name);
			goto out;
		}
	}
	if (fstat(in, &st) == 0) {
		struct timespec ts[2] = {{0, UTIME_NOW}, st.st_mtim};

		(void)futimens(out, ts);
	}
	if (fsync_enabled(dest) && fsync(out) < 0) {
		mailbox_error_errno(err, errno, "fsync(%s/%s) failed", dest->tmp_path, tmp_name);
		goto out;
	}
	ok = true;
out:
	close(in);
	if (close(out) < 0 && ok) {
		ok = mailbox_error_errno(err, errno, "close(%s/%s) failed", dest->tmp_path,
					 tmp_name);
	}
	if (!ok)
		(void)unlinkat(dest->tmp_fd, tmp_name, 0);
	return ok;
}

/* Hard-links src message seq into dest's tmp/; false with errno set. */
static bool link_into_tmp(struct mailbox *src, uint32_t seq, struct mailbox *dest, char *tmp_name,
			  struct mailbox_error *err)
{
	struct buf name = BUF_INIT(MAILDIR_FILENAME_MAX - 40);
	const struct mail_record *rec;
	char from[MAILDIR_FILENAME_MAX + 1];

	if (!maildir_filename_generate(dest->storage->hostname, &name)) {
		buf_free(&name);
		errno = ENAMETOOLONG;
		return false;
	}
	str_copy(tmp_name, MAILDIR_FILENAME_MAX + 1, buf_cstr(&name));
	buf_free(&name);
	for (int tries = 0; tries < 3; tries++) {
		rec = mailbox_record(src, seq);
		if (!maildir_filename_valid(index_view_name(&src->view, rec), rec->name_len)) {
			errno = EINVAL;
			return false;
		}
		memcpy(from, index_view_name(&src->view, rec), rec->name_len);
		from[rec->name_len] = '\0';
		if (linkat((rec->state & INDEX_REC_IN_NEW) != 0 ? src->new_fd : src->cur_fd, from,
			   dest->tmp_fd, tmp_name, 0) == 0)
			return true;
		if (errno != ENOENT)
			return false;
		/* Renamed by someone: find its current name and retry. */
		int fd;

		if (!mailbox_mail_open(src, seq, &fd, err)) {
			errno = ENOENT;
			return false;
		}
		close(fd);
	}
	errno = ENOENT;
	return false;
}

bool mailbox_copy(struct mailbox *src, const uint32_t *uids, size_t count, struct mailbox *dest,
		  uint32_t *dest_uids_r, struct mailbox_error *err)
{
	struct mailbox_error local;
	struct pending_file *files;
	uint32_t *seqs;
	uint64_t total = 0;
	size_t n = 0;
	bool ok = false;

	if (err == NULL)
		err = &local;
	if (!check_can_save(dest, err))
		return false;
	files = i_calloc(count + 1, sizeof(*files));
	seqs = i_calloc(count + 1, sizeof(*seqs));
	for (size_t i = 0; i < count; i++) {
		uint32_t seq = mailbox_seq_by_uid(src, uids[i]);

		if (dest_uids_r != NULL)
			dest_uids_r[i] = 0;
		if (seq != 0) {
			total += mailbox_record(src, seq)->psize;
			seqs[i] = seq;
		}
	}
	for (size_t i = 0; i < count; i++)
		n += seqs[i] != 0;
	if (n > 0 && !mailbox_quota_check(dest, total, n, err))
		goto out;
	n = 0;
	for (size_t i = 0; i < count; i++) {
		const struct mail_record *rec;
		uint32_t keywords = 0;
		struct pending_file *f = &files[i];

		if (seqs[i] == 0)
			continue;
		rec = mailbox_record(src, seqs[i]);
		/* Keywords travel by name: letters differ between mailboxes. */
		for (unsigned int k = 0; k < MAIL_KEYWORDS_MAX; k++) {
			const char *kw = mailbox_keyword_name(src, k);
			unsigned int idx;
			struct mailbox_error kerr;

			if ((rec->keywords & (1U << k)) == 0 || kw == NULL)
				continue;
			if (mailbox_keyword_add(dest, kw, &idx, &kerr))
				keywords |= 1U << idx;
			else
				log_warning("%s: keyword %s not copied: %s", dest->dir, kw,
					    kerr.text);
		}
		rec = mailbox_record(src, seqs[i]);
		if (!link_into_tmp(src, seqs[i], dest, f->tmp_name, err)) {
			if (err->code == MAILBOX_ERROR_EXPUNGED) {
				mailbox_error_clear(err);
				f->tmp_name[0] = '\0';
				continue;
			}
			if (errno != EXDEV && errno != EPERM && errno != EMLINK &&
			    errno != EOPNOTSUPP) {
				mailbox_error_errno(err, errno, "link(%s -> %s) failed", src->dir,
						    dest->tmp_path);
				goto out_unlink;
			}
			if (!copy_bytes(src, seqs[i], dest, f->tmp_name, err)) {
				f->tmp_name[0] = '\0';
				if (err->code == MAILBOX_ERROR_EXPUNGED) {
					mailbox_error_clear(err);
					continue;
				}
				goto out_unlink;
			}
		}
		rec = mailbox_record(src, seqs[i]);
		if (!final_name(f->tmp_name, rec->psize, rec->vsize, rec->flags & MAIL_FLAGS_MASK,
				keywords, f->final_name, &f->to_cur)) {
			(void)unlinkat(dest->tmp_fd, f->tmp_name, 0);
			f->tmp_name[0] = '\0';
			continue;
		}
		n++;
	}
	{
		/* Commit only the files that made it into tmp/. */
		struct pending_file *list = i_calloc(n + 1, sizeof(*list));
		size_t k = 0;

		for (size_t i = 0; i < count; i++) {
			if (files[i].tmp_name[0] != '\0' && files[i].final_name[0] != '\0')
				list[k++] = files[i];
		}
		ok = k == 0 || commit_files(dest, list, k, err);
		k = 0;
		for (size_t i = 0; ok && i < count; i++) {
			if (files[i].tmp_name[0] != '\0' && files[i].final_name[0] != '\0') {
				if (dest_uids_r != NULL)
					dest_uids_r[i] = list[k].uid;
				k++;
			}
		}
		if (!ok) {
			for (size_t i = 0; i < count; i++) {
				if (files[i].tmp_name[0] != '\0')
					(void)unlinkat(dest->tmp_fd, files[i].tmp_name, 0);
			}
		}
		free(list);
	}
	goto out;
out_unlink:
	for (size_t i = 0; i < count; i++) {
		if (files[i].tmp_name[0] != '\0')
			(void)unlinkat(dest->tmp_fd, files[i].tmp_name, 0);
	}
out:
	free(files);
	free(seqs);
	return ok;
}
