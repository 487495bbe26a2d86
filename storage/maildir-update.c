/*
 * Flag changes and expunges: renames and unlinks in cur/ and new/, done
 * with the mailbox's sync lock held so roost processes never race each
 * other; a file renamed by a foreign program meanwhile is found again by
 * its base name. Runs in roost-imap and roost-pop3 as the mail user.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mailbox-private.h"
#include "maildir-filename.h"
#include "xalloc.h"

/* Searches cur/ then new/ for a file with the base of name. */
static bool find_by_base(struct mailbox *box, const char *name, size_t len, char *found_r,
			 bool *in_new_r)
{
	const int fds[2] = {box->cur_fd, box->new_fd};

	for (int i = 0; i < 2; i++) {
		int fd = openat(fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct dirent *d;
		DIR *dir;

		if (fd < 0)
			continue;
		dir = fdopendir(fd);
		if (dir == NULL) {
			close(fd);
			continue;
		}
		while ((d = readdir(dir)) != NULL) {
			size_t dlen = strlen(d->d_name);

			if (maildir_filename_valid(d->d_name, dlen) &&
			    maildir_filename_base_cmp(d->d_name, dlen, name, len) == 0) {
				str_copy(found_r, MAILDIR_FILENAME_MAX + 1, d->d_name);
				*in_new_r = i == 1;
				closedir(dir);
				return true;
			}
		}
		closedir(dir);
	}
	return false;
}

struct locked {
	struct lock_file *lock;
	struct index_view state;
	bool same; /* the view matched the state we loaded */
};

static bool locked_begin(struct mailbox *box, struct locked *l, struct mailbox_error *err)
{
	memset(l, 0, sizeof(*l));
	index_view_init(&l->state);
	if (mailbox_sync_lock(box, &l->lock, err) <= 0)
		return false;
	if (!maildir_sync_state(box, l->lock, false, &l->state, err)) {
		lock_file_release(&l->lock);
		index_view_deinit(&l->state);
		return false;
	}
	l->same = box->view_loaded && !box->view_stale &&
		  index_file_stat_equal(&box->index_st, &box->view_index_st);
	return true;
}

static void locked_end(struct mailbox *box, struct locked *l, bool write)
{
	struct mailbox_error err;

	if (write) {
		maildir_sync_merge_local(box, &l->state);
		(void)maildir_sync_write_index(box, &l->state, &err);
	}
	if (l->same && write) {
		box->view.hdr = l->state.hdr;
		box->view_index_st = box->index_st;
	} else if (write) {
		box->view_stale = true;
	}
	lock_file_release(&l->lock);
}

static uint32_t apply_op(enum mailbox_flag_op op, uint32_t cur, uint32_t v)
{
	switch (op) {
	case MAILBOX_FLAGS_ADD:
		return cur | v;
	case MAILBOX_FLAGS_REMOVE:
		return cur & ~v;
	case MAILBOX_FLAGS_REPLACE:
		break;
	}
	return v;
}

/* Renames rec's file to carry the new flags; updates rec and its name. */
static int rename_record(struct mailbox *box, struct index_view *state, struct mail_record *rec,
			 uint32_t nf, uint32_t nk, struct mailbox_error *err)
{
	struct buf to = BUF_INIT(MAILDIR_FILENAME_MAX + 8);
	char from[MAILDIR_FILENAME_MAX + 1];
	bool in_new = (rec->state & INDEX_REC_IN_NEW) != 0;
	int ret = -1;

	if (rec->name_len > MAILDIR_FILENAME_MAX ||
	    !maildir_filename_valid(index_view_name(state, rec), rec->name_len)) {
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: invalid file name in index",
				  box->dir);
		goto out;
	}
	memcpy(from, index_view_name(state, rec), rec->name_len);
	from[rec->name_len] = '\0';
	for (int tries = 0; tries < 3; tries++) {
		buf_reset(&to);
		if (!maildir_filename_build(from, strlen(from), nf, nk, &to) ||
		    buf_len(&to) > MAILDIR_FILENAME_MAX) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "file name too long");
			goto out;
		}
		if (strcmp(from, buf_cstr(&to)) == 0 && !in_new)
			break;
		if (maildir_rename_noreplace(in_new ? box->new_fd : box->cur_fd, from, box->cur_fd,
					     buf_cstr(&to)) == 0)
			break;
		if (errno != ENOENT) {
			mailbox_error_errno(err, errno, "rename(%s/%s) failed", box->dir, from);
			goto out;
		}
		/* Someone else renamed it (a foreign program: roost holds
		   the lock). Find it by its base and try again. */
		if (!find_by_base(box, from, strlen(from), from, &in_new)) {
			ret = 0;
			goto out;
		}
	}
	if (!index_view_set_name(state, rec, buf_cstr(&to), buf_len(&to))) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: names area full", box->dir);
		goto out;
	}
	rec->flags = nf;
	rec->keywords = nk;
	rec->state &= (uint16_t)~INDEX_REC_IN_NEW;
	ret = 1;
out:
	buf_free(&to);
	return ret;
}

bool mailbox_update_flags(struct mailbox *box, const uint32_t *uids, size_t count,
			  enum mailbox_flag_op op, uint32_t flags, uint32_t keywords,
			  uint64_t unchanged_since, struct mailbox_update_result *results,
			  struct mailbox_error *err)
{
	struct mailbox_update_result tmp;
	struct mailbox_error local;
	struct locked l;
	uint64_t new_modseq;
	bool any = false, ok = true, cur_current;

	if (err == NULL)
		err = &local;
	if (box->readonly)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED, "Mailbox is read-only");
	if ((box->flags & MAILBOX_OPEN_SAVE_ONLY) != 0)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED,
					 "mailbox opened for saving only");
	flags &= MAIL_FLAGS_MASK;
	keywords &= MAIL_KEYWORDS_MASK;
	if (!locked_begin(box, &l, err))
		return false;
	cur_current = maildir_cur_change_begin(box, &l.state.hdr);
	new_modseq = l.state.hdr.highest_modseq + 1;
	for (size_t i = 0; i < count; i++) {
		struct mailbox_update_result *res = results != NULL ? &results[i] : &tmp;
		ssize_t j = index_view_find(&l.state, uids[i]);
		struct mail_record *rec;
		uint32_t nf, nk;
		int r;

		memset(res, 0, sizeof(*res));
		res->uid = uids[i];
		if (j < 0) {
			res->status = MAILBOX_UPDATE_EXPUNGED;
			continue;
		}
		rec = &l.state.recs[j];
		res->flags = rec->flags;
		res->keywords = rec->keywords;
		res->modseq = rec->modseq;
		if (unchanged_since != 0 && rec->modseq > unchanged_since) {
			res->status = MAILBOX_UPDATE_MODIFIED;
			continue;
		}
		nf = apply_op(op, rec->flags, flags);
		nk = apply_op(op, rec->keywords, keywords);
		if (nf == rec->flags && nk == rec->keywords) {
			res->status = MAILBOX_UPDATE_UNCHANGED;
			continue;
		}
		r = ok ? rename_record(box, &l.state, rec, nf, nk, err) : -1;
		if (r < 0) {
			if (ok)
				log_error("%s", err->text);
			ok = false;
			res->status = MAILBOX_UPDATE_UNCHANGED;
			continue;
		}
		if (r == 0) {
			res->status = MAILBOX_UPDATE_EXPUNGED;
			continue;
		}
		rec->modseq = new_modseq;
		any = true;
		res->status = MAILBOX_UPDATE_CHANGED;
		res->flags = nf;
		res->keywords = nk;
		res->modseq = new_modseq;
	}
	if (any) {
		l.state.hdr.highest_modseq = new_modseq;
		maildir_cur_change_end(box, &l.state.hdr, cur_current);
	}
	locked_end(box, &l, any);
	/* Our own changes are visible in the view at once. */
	for (size_t i = 0; any && i < count; i++) {
		const struct mailbox_update_result *res = results != NULL ? &results[i] : NULL;
		ssize_t v, j;

		j = index_view_find(&l.state, uids[i]);
		if (j < 0 || (res != NULL && res->status != MAILBOX_UPDATE_CHANGED))
			continue;
		const struct mail_record *srec = &l.state.recs[j];

		if (srec->modseq != new_modseq)
			continue;
		v = index_view_find(&box->view, uids[i]);
		if (v < 0)
			continue;
		struct mail_record *vrec = &box->view.recs[v];

		vrec->flags = srec->flags | (vrec->flags & MAIL_RECENT);
		vrec->keywords = srec->keywords;
		vrec->modseq = srec->modseq;
		vrec->state = srec->state;
		(void)index_view_set_name(&box->view, vrec, index_view_name(&l.state, srec),
					  srec->name_len);
	}
	index_view_deinit(&l.state);
	return ok;
}

bool mailbox_expunge(struct mailbox *box, const uint32_t *uids, size_t count,
		     struct mailbox_error *err)
{
	struct mailbox_error local;
	struct locked l;
	uint64_t new_modseq;
	size_t removed = 0, w = 0;
	bool ok = true, cur_current;

	if (err == NULL)
		err = &local;
	if (box->readonly)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED, "Mailbox is read-only");
	if ((box->flags & MAILBOX_OPEN_SAVE_ONLY) != 0)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED,
					 "mailbox opened for saving only");
	if (!locked_begin(box, &l, err))
		return false;
	cur_current = maildir_cur_change_begin(box, &l.state.hdr);
	new_modseq = l.state.hdr.highest_modseq + 1;
	for (size_t i = 0; i < count; i++) {
		ssize_t j = index_view_find(&l.state, uids[i]);
		struct mail_record *rec;
		char name[MAILDIR_FILENAME_MAX + 1];
		bool in_new;

		if (j < 0)
			continue;
		rec = &l.state.recs[j];
		if (rec->uid == 0 || rec->name_len > MAILDIR_FILENAME_MAX ||
		    !maildir_filename_valid(index_view_name(&l.state, rec), rec->name_len))
			continue;
		memcpy(name, index_view_name(&l.state, rec), rec->name_len);
		name[rec->name_len] = '\0';
		in_new = (rec->state & INDEX_REC_IN_NEW) != 0;
		if (unlinkat(in_new ? box->new_fd : box->cur_fd, name, 0) < 0) {
			if (errno != ENOENT) {
				mailbox_error_errno(err, errno, "unlink(%s/%s) failed", box->dir,
						    name);
				ok = false;
				continue;
			}
			if (find_by_base(box, name, strlen(name), name, &in_new) &&
			    unlinkat(in_new ? box->new_fd : box->cur_fd, name, 0) < 0 &&
			    errno != ENOENT) {
				mailbox_error_errno(err, errno, "unlink(%s/%s) failed", box->dir,
						    name);
				ok = false;
				continue;
			}
		}
		index_view_log_expunge(&l.state, rec->uid, new_modseq);
		rec->uid = 0;
		removed++;
	}
	if (removed > 0) {
		struct maildir_uidlist *ul = &box->uidlist;
		struct maildir_uidlist_stat st;
		int r;

		for (size_t i = 0; i < l.state.count; i++) {
			if (l.state.recs[i].uid != 0)
				l.state.recs[w++] = l.state.recs[i];
		}
		l.state.count = w;
		l.state.hdr.highest_modseq = new_modseq;
		maildir_cur_change_end(box, &l.state.hdr, cur_current);
		/* Drop the UIDs from the uidlist too once enough are gone;
		   until then the next full sync sees the lines as stale. */
		r = maildir_uidlist_read(ul, box->uidlist_path,
					 box->uidlist_loaded ? &box->uidlist_st : NULL, &st, err);
		box->uidlist_loaded = r > 0;
		if (r > 0) {
			box->uidlist_st = st;
			for (size_t i = 0; i < count; i++) {
				ssize_t k = maildir_uidlist_lookup_uid(ul, uids[i]);

				if (k >= 0 && index_view_find(&l.state, uids[i]) < 0)
					maildir_uidlist_remove(ul, (size_t)k);
			}
			if (maildir_uidlist_want_compact(ul)) {
				if (maildir_uidlist_write(ul, box->uidlist_path,
							  box->storage->fsync != MAIL_FSYNC_NEVER,
							  &box->uidlist_st, err)) {
					l.state.hdr.uidlist_ino = box->uidlist_st.ino;
					l.state.hdr.uidlist_dev = box->uidlist_st.dev;
					l.state.hdr.uidlist_size = box->uidlist_st.size;
					l.state.hdr.uidlist_mtime_ns = box->uidlist_st.mtime_ns;
				} else {
					log_error("%s", err->text);
					mailbox_error_clear(err);
					box->uidlist_loaded = false;
				}
			}
		} else {
			mailbox_error_clear(err);
		}
	}
	locked_end(box, &l, removed > 0);
	if (removed > 0)
		box->view_stale = true;
	index_view_deinit(&l.state);
	return ok;
}
