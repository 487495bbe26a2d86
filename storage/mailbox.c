/*
 * The mail store's sessions: storage set-up, opening and closing mailboxes,
 * the session's view and its synchronisation, keywords, message access, the
 * cache and change notification (see mailbox.h). Runs in roost-imap,
 * roost-pop3 and roost-lda as the mail user; all disk contents are
 * untrusted and pass through the checked readers of the other modules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox-name.h"
#include "mailbox-private.h"
#include "maildir-filename.h"
#include "xalloc.h"

/* ---- helpers shared with the other Maildir modules ---- */

char *mailbox_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = i_malloc(a + b + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

bool mailbox_mkdir_parents(const char *path, unsigned int mode, struct mailbox_error *err)
{
	char tmp[MAIL_LOCATION_PATH_MAX * 2 + 8];

	if (!str_copy(tmp, sizeof(tmp), path))
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "path too long: %s", path);
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return mailbox_error_errno(err, errno, "mkdir(%s) failed", tmp);
		*p = c;
		if (c == '\0')
			break;
	}
	return true;
}

unsigned int mailbox_lock_timeout_ms(const struct mail_storage *storage)
{
	return storage->lock_timeout_ms;
}

bool mailbox_create_maildir(struct mail_storage *storage, const char *dir, bool is_folder,
			    struct mailbox_error *err)
{
	static const char *const subdirs[] = {"tmp", "new", "cur"};

	if (!mail_storage_check_mounted(storage, err))
		return false;
	if (!mailbox_mkdir_parents(dir, storage->dir_mode, err))
		return false;
	for (size_t i = 0; i < N_ELEMENTS(subdirs); i++) {
		char *sub = mailbox_path_join(dir, subdirs[i]);

		if (mkdir(sub, storage->dir_mode) < 0 && errno != EEXIST) {
			mailbox_error_errno(err, errno, "mkdir(%s) failed", sub);
			free(sub);
			return false;
		}
		free(sub);
	}
	if (is_folder) {
		char *mf = mailbox_path_join(dir, MAILDIR_FOLDER_FILE);
		int fd = open(mf, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, storage->file_mode);

		if (fd >= 0)
			close(fd);
		free(mf);
	}
	return true;
}

bool mailbox_get_dirs(struct mail_storage *storage, const char *name, char **dir_r,
		      char **control_r, char **index_r, struct mailbox_error *err)
{
	const struct mail_location *loc = storage->loc;
	struct buf rel = BUF_INIT(MAILBOX_NAME_MAX * 4 + 8);

	*dir_r = *control_r = *index_r = NULL;
	if (mailbox_name_is_inbox(name)) {
		*dir_r = i_strdup(loc->inbox != NULL ? loc->inbox : loc->root);
		*control_r = i_strdup(loc->control_dir != NULL ? loc->control_dir : *dir_r);
		if (!loc->index_memory)
			*index_r = i_strdup(loc->index_dir != NULL ? loc->index_dir : *dir_r);
		return true;
	}
	if (!mailbox_name_to_dir(name, loc->layout, &rel, err)) {
		buf_free(&rel);
		return false;
	}
	*dir_r = mailbox_path_join(loc->root, buf_cstr(&rel));
	*control_r = loc->control_dir != NULL ? mailbox_path_join(loc->control_dir, buf_cstr(&rel))
					      : i_strdup(*dir_r);
	if (!loc->index_memory)
		*index_r = loc->index_dir != NULL
				   ? mailbox_path_join(loc->index_dir, buf_cstr(&rel))
				   : i_strdup(*dir_r);
	buf_free(&rel);
	return true;
}

uint32_t mailbox_new_uidvalidity(struct mail_storage *storage)
{
	const char *root =
		storage->loc->control_dir != NULL ? storage->loc->control_dir : storage->loc->root;
	char *path = mailbox_path_join(root, MAILBOX_UIDVALIDITY_FILE);
	char *tmp = mailbox_path_join(root, MAILBOX_UIDVALIDITY_FILE ".roost-tmp");
	uint32_t now = (uint32_t)time(NULL), last = 0, next;
	char data[16];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = read(fd, data, 8);
		close(fd);
		if (n == 8) {
			data[8] = '\0';
			last = (uint32_t)strtoul(data, NULL, 16);
		}
	}
	next = now > last ? now : last + 1;
	if (next == 0)
		next = 1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		str_format(data, sizeof(data), "%08x", next);
		if (write(fd, data, 8) == 8 && close(fd) == 0) {
			if (rename(tmp, path) < 0)
				(void)unlink(tmp);
		} else {
			(void)unlink(tmp);
		}
	}
	free(path);
	free(tmp);
	return next;
}

int mailbox_sync_lock(struct mailbox *box, struct lock_file **lock_r, struct mailbox_error *err)
{
	return lock_file_acquire(box->lock_path, LOCK_MODE_EXCLUSIVE,
				 mailbox_lock_timeout_ms(box->storage), lock_r, err);
}

/* ---- storage ---- */

bool mail_storage_create(const struct mail_storage_settings *set, struct mail_storage **storage_r,
			 struct mailbox_error *err)
{
	struct mail_location_vars vars = {set->user, set->home};
	struct mail_storage *storage;
	char host[256];

	*storage_r = NULL;
	storage = i_calloc(1, sizeof(*storage));
	if (!mail_location_parse(set->mail_location != NULL ? set->mail_location : "", &vars,
				 &storage->loc, err))
		goto fail;
	if (set->hostname != NULL) {
		storage->hostname = i_strdup(set->hostname);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			str_copy(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		storage->hostname = i_strdup(host);
	}
	for (size_t i = 0; set->quota_rules != NULL && set->quota_rules[i] != NULL; i++) {
		if (!quota_rules_add(&storage->quota, set->quota_rules[i], err))
			goto fail;
	}
	storage->lock_timeout_ms = (set->lock_timeout_secs != 0 ? set->lock_timeout_secs
								: MAILBOX_DEFAULT_LOCK_TIMEOUT) *
				   1000U;
	storage->fsync = set->fsync;
	storage->dir_mode = set->dir_mode != 0 ? set->dir_mode : 0700;
	storage->file_mode = set->file_mode != 0 ? set->file_mode : 0600;
	storage->very_dirty_syncs = set->very_dirty_syncs;
	if (set->mountpoints_file != NULL) {
		if (!mountpoint_list_read(set->mountpoints_file, &storage->mounts, err))
			goto fail;
		storage->have_mounts = true;
	}
	if (!mail_storage_check_mounted(storage, err))
		goto fail;
	/* INBOX and the root exist from the start, as with Dovecot. */
	{
		const char *inbox =
			storage->loc->inbox != NULL ? storage->loc->inbox : storage->loc->root;
		char *cur = mailbox_path_join(inbox, "cur");
		struct stat st;
		bool ok = true;

		if (stat(cur, &st) < 0)
			ok = mailbox_create_maildir(storage, inbox, false, err);
		free(cur);
		if (ok && stat(storage->loc->root, &st) < 0)
			ok = mailbox_mkdir_parents(storage->loc->root, storage->dir_mode, err);
		if (!ok)
			goto fail;
	}
	*storage_r = storage;
	return true;
fail:
	mail_storage_destroy(&storage);
	return false;
}

void mail_storage_destroy(struct mail_storage **storage)
{
	if (*storage == NULL)
		return;
	mail_location_free(&(*storage)->loc);
	free((*storage)->hostname);
	quota_rules_free(&(*storage)->quota);
	mountpoint_list_free(&(*storage)->mounts);
	I_FREE(*storage);
}

const struct mail_location *mail_storage_location(const struct mail_storage *storage)
{
	return storage->loc;
}

const struct quota_rules *mail_storage_quota_rules(const struct mail_storage *storage)
{
	return &storage->quota;
}

bool mail_storage_check_mounted(struct mail_storage *storage, struct mailbox_error *err)
{
	const char *mount;
	const char *paths[3] = {storage->loc->root, storage->loc->index_dir,
				storage->loc->control_dir};

	if (!storage->have_mounts)
		return true;
	for (size_t i = 0; i < N_ELEMENTS(paths); i++) {
		if (paths[i] == NULL)
			continue;
		if (mountpoint_check(&storage->mounts, paths[i], &mount) ==
		    MOUNTPOINT_STATE_NOT_MOUNTED)
			return mailbox_error_set(err, MAILBOX_ERROR_NOT_MOUNTED,
						 "%s is under mountpoint %s, which is not "
						 "mounted: refusing to create anything there "
						 "(temporary failure)",
						 paths[i], mount);
	}
	return true;
}

/* ---- open / close ---- */

static bool open_dir_fd(const char *path, int *fd_r, struct mailbox_error *err)
{
	*fd_r = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd_r < 0) {
		if (errno == ENOENT)
			return mailbox_error_set(err, MAILBOX_ERROR_NOT_FOUND,
						 "Mailbox doesn't exist (%s missing)", path);
		return mailbox_error_errno(err, errno, "open(%s) failed", path);
	}
	return true;
}

bool mailbox_open(struct mail_storage *storage, const char *name, unsigned int flags,
		  struct mailbox **box_r, struct mailbox_error *err)
{
	struct mailbox *box;
	struct stat st;
	bool is_inbox = mailbox_name_is_inbox(name);

	*box_r = NULL;
	if (!is_inbox && !mailbox_name_validate(name, storage->loc->layout, err))
		return false;
	box = i_calloc(1, sizeof(*box));
	box->storage = storage;
	box->name = i_strdup(is_inbox ? "INBOX" : name);
	box->flags = flags;
	box->readonly = (flags & MAILBOX_OPEN_READONLY) != 0;
	box->no_moves = box->readonly || (flags & MAILBOX_OPEN_SAVE_ONLY) != 0;
	box->new_fd = box->cur_fd = box->tmp_fd = -1;
	index_view_init(&box->view);
	index_view_init(&box->mem_index);
	maildir_uidlist_init(&box->uidlist);
	maildir_keywords_init(&box->keywords);
	if (!mailbox_get_dirs(storage, name, &box->dir, &box->control_dir, &box->index_dir, err))
		goto fail;
	box->new_path = mailbox_path_join(box->dir, "new");
	box->cur_path = mailbox_path_join(box->dir, "cur");
	box->tmp_path = mailbox_path_join(box->dir, "tmp");
	box->uidlist_path = mailbox_path_join(box->control_dir, MAILDIR_UIDLIST_NAME);
	box->keywords_path = mailbox_path_join(box->control_dir, MAILDIR_KEYWORDS_NAME);
	box->lock_path = mailbox_path_join(box->control_dir, MAILBOX_LOCK_FILE);
	if (box->index_dir != NULL) {
		box->index_path = mailbox_path_join(box->index_dir, INDEX_FILE_NAME);
		box->cache_path = mailbox_path_join(box->index_dir, INDEX_CACHE_FILE_NAME);
	}
	if (stat(box->cur_path, &st) < 0) {
		if (errno != ENOENT) {
			mailbox_error_errno(err, errno, "stat(%s) failed", box->cur_path);
			goto fail;
		}
		if (!is_inbox && (flags & MAILBOX_OPEN_AUTOCREATE) == 0) {
			struct stat dst;

			/* A folder directory without cur/ was half created
			   (crash) or is a \Noselect parent. */
			if (stat(box->dir, &dst) < 0 || storage->loc->layout == MAIL_LAYOUT_FS) {
				mailbox_error_set(err, MAILBOX_ERROR_NOT_FOUND,
						  "Mailbox doesn't exist: %s", name);
				goto fail;
			}
		}
		if (!mailbox_create_maildir(storage, box->dir, !is_inbox, err))
			goto fail;
	}
	if (strcmp(box->control_dir, box->dir) != 0 &&
	    (!mail_storage_check_mounted(storage, err) ||
	     !mailbox_mkdir_parents(box->control_dir, storage->dir_mode, err)))
		goto fail;
	if (box->index_dir != NULL && strcmp(box->index_dir, box->dir) != 0 &&
	    (!mail_storage_check_mounted(storage, err) ||
	     !mailbox_mkdir_parents(box->index_dir, storage->dir_mode, err)))
		goto fail;
	if (!open_dir_fd(box->new_path, &box->new_fd, err) ||
	    !open_dir_fd(box->cur_path, &box->cur_fd, err) ||
	    !open_dir_fd(box->tmp_path, &box->tmp_fd, err))
		goto fail;
	if ((flags & MAILBOX_OPEN_SESSION_LOCK) != 0) {
		char *path = mailbox_path_join(box->control_dir, MAILBOX_SESSION_LOCK_FILE);
		int r = lock_file_acquire(path, LOCK_MODE_EXCLUSIVE,
					  mailbox_lock_timeout_ms(storage), &box->session_lock,
					  err);

		free(path);
		if (r <= 0)
			goto fail;
	}
	if ((flags & MAILBOX_OPEN_SAVE_ONLY) == 0 && !mailbox_sync(box, 0, NULL, err))
		goto fail;
	*box_r = box;
	return true;
fail:
	mailbox_close(&box);
	return false;
}

/* Writes lazily learned dates back to the index (best effort). */
static void write_back_dates(struct mailbox *box)
{
	struct mailbox_error err;
	struct lock_file *lock = NULL;
	struct index_view state;

	if (!box->dates_dirty || box->index_path == NULL)
		return;
	index_view_init(&state);
	if (mailbox_sync_lock(box, &lock, &err) > 0) {
		if (maildir_sync_state(box, lock, false, &state, &err)) {
			maildir_sync_merge_local(box, &state);
			(void)maildir_sync_write_index(box, &state, &err);
		}
		lock_file_release(&lock);
	}
	index_view_deinit(&state);
	box->dates_dirty = false;
}

void mailbox_close(struct mailbox **boxp)
{
	struct mailbox *box = *boxp;
	struct mailbox_error err;

	if (box == NULL)
		return;
	if (box->cache != NULL && index_cache_pending_size(box->cache) > 0 &&
	    !mailbox_cache_flush(box, &err))
		log_warning("%s: could not write cached data: %s", box->dir, err.text);
	if (box->view_loaded)
		write_back_dates(box);
	index_cache_close(&box->cache);
	lock_file_release(&box->session_lock);
	mailbox_watch_stop(box);
	if (box->new_fd >= 0)
		close(box->new_fd);
	if (box->cur_fd >= 0)
		close(box->cur_fd);
	if (box->tmp_fd >= 0)
		close(box->tmp_fd);
	index_view_deinit(&box->view);
	index_view_deinit(&box->mem_index);
	maildir_uidlist_deinit(&box->uidlist);
	maildir_keywords_deinit(&box->keywords);
	free(box->recent_uids);
	free(box->name);
	free(box->dir);
	free(box->control_dir);
	free(box->index_dir);
	free(box->new_path);
	free(box->cur_path);
	free(box->tmp_path);
	free(box->uidlist_path);
	free(box->keywords_path);
	free(box->lock_path);
	free(box->index_path);
	free(box->cache_path);
	I_FREE(*boxp);
}

const char *mailbox_get_name(const struct mailbox *box)
{
	return box->name;
}

bool mailbox_is_readonly(const struct mailbox *box)
{
	return box->readonly;
}

const char *mailbox_get_path(const struct mailbox *box)
{
	return box->dir;
}

/* ---- recent ---- */

void mailbox_recent_add(struct mailbox *box, uint32_t first, uint32_t next)
{
	if (first >= next)
		return;
	if (box->recent_count > 0 && box->recent_uids[box->recent_count - 1] == first) {
		box->recent_uids[box->recent_count - 1] = next;
		return;
	}
	if (box->recent_count + 2 > box->recent_alloc) {
		box->recent_alloc = box->recent_alloc == 0 ? 8 : box->recent_alloc * 2;
		box->recent_uids =
			i_realloc_array(box->recent_uids, box->recent_alloc, sizeof(uint32_t));
	}
	box->recent_uids[box->recent_count++] = first;
	box->recent_uids[box->recent_count++] = next;
}

static bool uid_is_recent(const struct mailbox *box, uint32_t uid)
{
	for (size_t i = 0; i + 1 < box->recent_count; i += 2) {
		if (uid >= box->recent_uids[i] && uid < box->recent_uids[i + 1])
			return true;
	}
	return false;
}

/* ---- sync ---- */

/* Whether the view still matches the disk without reading anything but a
   few inodes. */
static bool view_is_current(struct mailbox *box)
{
	struct index_file_stat st;
	struct stat new_st, cur_st, ul;
	const struct index_header *hdr = &box->view.hdr;

	if (!box->view_loaded || box->view_stale || !box->index_st_valid)
		return false;
	if (box->index_path != NULL &&
	    (!index_file_stat(box->index_path, &st) || !index_file_stat_equal(&st, &box->index_st)))
		return false;
	if (fstat(box->new_fd, &new_st) < 0 || fstat(box->cur_fd, &cur_st) < 0 ||
	    stat(box->uidlist_path, &ul) < 0)
		return false;
	return maildir_sync_dirs_current(hdr, &new_st, &cur_st, &ul) &&
	       !((box->flags & MAILBOX_OPEN_CLAIM_RECENT) != 0 &&
		 hdr->first_recent_uid < hdr->next_uid);
}

static void push_u32(uint32_t **arr, size_t *count, size_t *alloc, uint32_t v)
{
	if (*count == *alloc) {
		*alloc = *alloc == 0 ? 16 : *alloc * 2;
		*arr = i_realloc_array(*arr, *alloc, sizeof(uint32_t));
	}
	(*arr)[(*count)++] = v;
}

/* Compares the view with the new state, fills changes, and drops from the
   state any UID below the view's highest that the view never had (a file
   that came back: IMAP cannot show it in this session). */
static void diff_views(struct mailbox *box, struct index_view *state,
		       struct mailbox_changes *changes)
{
	const struct index_view *old = &box->view;
	uint32_t old_max = old->count > 0 ? old->recs[old->count - 1].uid : 0;
	size_t i = 0, j = 0, w = 0, ealloc = 0, calloc_ = 0, salloc = 0, nseqs = 0;
	unsigned int dropped = 0;

	changes->old_count = (uint32_t)old->count;
	if (box->view_loaded && old->hdr.uidvalidity != 0 &&
	    old->hdr.uidvalidity != state->hdr.uidvalidity) {
		changes->uidvalidity_changed = true;
		changes->new_count = (uint32_t)state->count;
		return;
	}
	while (i < old->count || j < state->count) {
		if (j == state->count ||
		    (i < old->count && old->recs[i].uid < state->recs[j].uid)) {
			push_u32(&changes->expunged_uids, &changes->expunged_count, &ealloc,
				 old->recs[i].uid);
			push_u32(&changes->expunged_seqs, &nseqs, &salloc, (uint32_t)i + 1);
			i++;
			continue;
		}
		if (i < old->count && old->recs[i].uid == state->recs[j].uid) {
			const struct mail_record *o = &old->recs[i], *n = &state->recs[j];

			if ((o->flags & MAIL_FLAGS_MASK) != (n->flags & MAIL_FLAGS_MASK) ||
			    o->keywords != n->keywords || o->modseq != n->modseq)
				push_u32(&changes->changed_seqs, &changes->changed_count, &calloc_,
					 (uint32_t)w + 1);
			state->recs[w++] = state->recs[j++];
			i++;
			continue;
		}
		/* A record the view does not have. */
		if (box->view_loaded && state->recs[j].uid <= old_max) {
			dropped++;
			j++;
			continue;
		}
		state->recs[w++] = state->recs[j++];
	}
	state->count = w;
	if (dropped > 0)
		log_warning("%s: %u messages reappeared with old UIDs; they stay hidden until "
			    "the mailbox is reopened",
			    box->dir, dropped);
	changes->new_count = (uint32_t)state->count;
}

bool mailbox_sync(struct mailbox *box, unsigned int flags, struct mailbox_changes *changes,
		  struct mailbox_error *err)
{
	struct mailbox_changes dummy;
	struct index_view state;
	bool force = (flags & MAILBOX_SYNC_FORCE_SCAN) != 0;
	uint32_t recent = 0;

	if (changes == NULL)
		changes = &dummy;
	memset(changes, 0, sizeof(*changes));
	if ((box->flags & MAILBOX_OPEN_SAVE_ONLY) != 0)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED,
					 "mailbox opened for saving only");
	if (box->cache != NULL && index_cache_pending_size(box->cache) > 0) {
		struct mailbox_error cerr;

		if (!mailbox_cache_flush(box, &cerr))
			log_warning("%s: could not write cached data: %s", box->dir, cerr.text);
	}
	if (!force && view_is_current(box)) {
		changes->old_count = changes->new_count = (uint32_t)box->view.count;
		return true;
	}
	index_view_init(&state);
	if (!maildir_sync_state(box, NULL, force, &state, err)) {
		index_view_deinit(&state);
		return false;
	}
	if (!mailbox_keywords_refresh(box, err)) {
		index_view_deinit(&state);
		return false;
	}
	diff_views(box, &state, changes);
	for (size_t i = 0; i < state.count; i++) {
		if (box->recent_count > 0 && uid_is_recent(box, state.recs[i].uid)) {
			state.recs[i].flags |= MAIL_RECENT;
			recent++;
		}
	}
	changes->recent_count = recent;
	if (box->keywords_changed) {
		changes->keywords_changed = true;
		box->keywords_changed = false;
	}
	if (box->cache != NULL && index_cache_file_id(box->cache) != state.hdr.cache_file_id)
		index_cache_close(&box->cache);
	box->cache_checked = false;
	index_view_move(&box->view, &state);
	index_view_deinit(&state);
	box->view_loaded = true;
	box->view_stale = false;
	box->view_index_st = box->index_st;
	if (changes == &dummy)
		mailbox_changes_free(&dummy);
	return true;
}

unsigned int mailbox_sync_recheck_msecs(const struct mailbox *box)
{
	int64_t ns = box->view_loaded ? maildir_sync_recheck_ns(&box->view.hdr) : 0;

	return ns > 0 ? (unsigned int)(ns / 1000000 + 1) : 0;
}

void mailbox_changes_free(struct mailbox_changes *changes)
{
	free(changes->expunged_uids);
	free(changes->expunged_seqs);
	free(changes->changed_seqs);
	memset(changes, 0, sizeof(*changes));
}

uint32_t mailbox_count(const struct mailbox *box)
{
	return (uint32_t)box->view.count;
}

const struct mail_record *mailbox_record(const struct mailbox *box, uint32_t seq)
{
	if (seq == 0 || seq > box->view.count)
		return NULL;
	return &box->view.recs[seq - 1];
}

uint32_t mailbox_seq_by_uid(const struct mailbox *box, uint32_t uid)
{
	ssize_t i = index_view_find(&box->view, uid);

	return i < 0 ? 0 : (uint32_t)i + 1;
}

uint32_t mailbox_seq_from_uid(const struct mailbox *box, uint32_t uid)
{
	size_t lo = 0, hi = box->view.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (box->view.recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo + 1;
}

uint32_t mailbox_uidvalidity(const struct mailbox *box)
{
	return box->view.hdr.uidvalidity;
}

uint32_t mailbox_next_uid(const struct mailbox *box)
{
	return box->view.hdr.next_uid;
}

uint64_t mailbox_highest_modseq(const struct mailbox *box)
{
	return box->view.hdr.highest_modseq;
}

void mailbox_get_status(const struct mailbox *box, struct mailbox_status *status_r)
{
	memset(status_r, 0, sizeof(*status_r));
	status_r->messages = (uint32_t)box->view.count;
	status_r->uidnext = box->view.hdr.next_uid;
	status_r->uidvalidity = box->view.hdr.uidvalidity;
	status_r->highest_modseq = box->view.hdr.highest_modseq;
	for (size_t i = 0; i < box->view.count; i++) {
		const struct mail_record *rec = &box->view.recs[i];

		if ((rec->flags & MAIL_SEEN) == 0) {
			status_r->unseen++;
			if (status_r->first_unseen_seq == 0)
				status_r->first_unseen_seq = (uint32_t)i + 1;
		}
		if ((rec->flags & MAIL_RECENT) != 0)
			status_r->recent++;
		if ((rec->flags & MAIL_DELETED) != 0)
			status_r->deleted++;
		status_r->vsize += rec->vsize;
	}
}

bool mailbox_status_peek(struct mail_storage *storage, const char *name,
			 struct mailbox_status *status_r, struct mailbox_error *err)
{
	struct mailbox *box;

	if (!mailbox_open(storage, name, MAILBOX_OPEN_READONLY, &box, err))
		return false;
	mailbox_get_status(box, status_r);
	/* Another session's \Recent claim is not ours to take; report the
	   messages nobody has claimed yet. */
	if (box->view.hdr.first_recent_uid < box->view.hdr.next_uid)
		status_r->recent = box->view.count -
				   (mailbox_seq_from_uid(box, box->view.hdr.first_recent_uid) - 1);
	mailbox_close(&box);
	return true;
}

bool mailbox_expunged_since(struct mailbox *box, uint64_t since, uint32_t **uids_r, size_t *count_r,
			    bool *complete_r, struct mailbox_error *err)
{
	size_t count = 0, alloc = 0;

	(void)err;
	*uids_r = NULL;
	*complete_r = box->view.hdr.expunge_log_min_modseq <= since;
	for (size_t i = 0; i < box->view.expunge_count; i++) {
		if (box->view.expunges[i].modseq > since)
			push_u32(uids_r, &count, &alloc, box->view.expunges[i].uid);
	}
	if (count > 0)
		qsort(*uids_r, count, sizeof(uint32_t), maildir_cmp_u32);
	*count_r = count;
	return true;
}

/* ---- keywords ---- */

bool mailbox_keywords_refresh(struct mailbox *box, struct mailbox_error *err)
{
	struct stat st;
	char *old[MAIL_KEYWORDS_MAX];
	int r;

	if (stat(box->keywords_path, &st) < 0) {
		if (errno != ENOENT)
			return mailbox_error_errno(err, errno, "stat(%s) failed",
						   box->keywords_path);
		memset(&st, 0, sizeof(st));
	}
	if (box->keywords_loaded && box->keywords_ino == (uint64_t)st.st_ino &&
	    box->keywords_size == (uint64_t)st.st_size &&
	    box->keywords_mtime_ns ==
		    (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec)
		return true;
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		old[i] = box->keywords.names[i] != NULL ? i_strdup(box->keywords.names[i]) : NULL;
	r = maildir_keywords_read(&box->keywords, box->keywords_path, err);
	if (r >= 0) {
		for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
			const char *n = box->keywords.names[i];

			if ((old[i] == NULL) != (n == NULL) ||
			    (n != NULL && strcmp(old[i], n) != 0))
				box->keywords_changed = box->keywords_loaded;
		}
		box->keywords_loaded = true;
		box->keywords_ino = (uint64_t)st.st_ino;
		box->keywords_size = (uint64_t)st.st_size;
		box->keywords_mtime_ns =
			(int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	}
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		free(old[i]);
	return r >= 0;
}

const char *mailbox_keyword_name(const struct mailbox *box, unsigned int idx)
{
	return maildir_keywords_name(&box->keywords, idx);
}

int mailbox_keyword_lookup(const struct mailbox *box, const char *name)
{
	return maildir_keywords_lookup(&box->keywords, name);
}

bool mailbox_keyword_add(struct mailbox *box, const char *name, unsigned int *idx_r,
			 struct mailbox_error *err)
{
	struct lock_file *lock = NULL;
	int idx, r;
	bool ok;

	idx = maildir_keywords_lookup(&box->keywords, name);
	if (idx >= 0) {
		*idx_r = (unsigned int)idx;
		return true;
	}
	if (!maildir_keyword_name_valid(name))
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "Invalid keyword name");
	r = mailbox_sync_lock(box, &lock, err);
	if (r <= 0)
		return false;
	/* Another process may have added keywords: re-read under the lock. */
	box->keywords_loaded = false;
	ok = mailbox_keywords_refresh(box, err);
	if (ok) {
		idx = maildir_keywords_lookup(&box->keywords, name);
		if (idx < 0) {
			idx = maildir_keywords_add(&box->keywords, name);
			if (idx < 0)
				ok = mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
						       "Too many keywords in this mailbox (at "
						       "most %d)",
						       MAIL_KEYWORDS_MAX);
			else
				ok = maildir_keywords_write(
					&box->keywords, box->keywords_path,
					box->storage->fsync == MAIL_FSYNC_ALWAYS, err);
			box->keywords_loaded = false;
			if (ok)
				ok = mailbox_keywords_refresh(box, err);
			box->keywords_changed = true;
		}
	}
	lock_file_release(&lock);
	if (ok)
		*idx_r = (unsigned int)idx;
	return ok;
}

/* ---- messages ---- */

/* Finds the current name of the view's message seq after ENOENT: from the
   index, then by reading the directories. EXPUNGED if it is gone. */
static bool refresh_name(struct mailbox *box, uint32_t seq, struct mailbox_error *err)
{
	struct mail_record *vrec = &box->view.recs[seq - 1];
	struct index_view state;
	bool ok = false;

	index_view_init(&state);
	for (int pass = 0; pass < 2 && !ok; pass++) {
		ssize_t i;

		if (!maildir_sync_state(box, NULL, pass == 1, &state, err))
			break;
		i = index_view_find(&state, vrec->uid);
		if (i < 0) {
			if (pass == 1)
				mailbox_error_set(err, MAILBOX_ERROR_EXPUNGED,
						  "Message UID %u was expunged", vrec->uid);
			continue;
		}
		const struct mail_record *srec = &state.recs[i];

		if (srec->name_len == vrec->name_len &&
		    memcmp(index_view_name(&state, srec), index_view_name(&box->view, vrec),
			   srec->name_len) == 0 &&
		    srec->state == vrec->state) {
			if (pass == 1)
				mailbox_error_set(err, MAILBOX_ERROR_EXPUNGED,
						  "Message UID %u was expunged", vrec->uid);
			continue;
		}
		if (!index_view_set_name(&box->view, vrec, index_view_name(&state, srec),
					 srec->name_len))
			break;
		vrec->state = srec->state;
		ok = true;
	}
	index_view_deinit(&state);
	/* The disk moved on; the next mailbox_sync must compare. */
	box->view_stale = true;
	return ok;
}

bool mailbox_mail_open(struct mailbox *box, uint32_t seq, int *fd_r, struct mailbox_error *err)
{
	struct stat st;

	*fd_r = -1;
	if (seq == 0 || seq > box->view.count)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "No such message");
	for (int tries = 0; tries < 3; tries++) {
		int fd = maildir_open_record(box, &box->view, &box->view.recs[seq - 1], O_RDONLY);

		if (fd >= 0) {
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
				close(fd);
				return mailbox_error_set(err, MAILBOX_ERROR_TEMP,
							 "%s: message is not a regular file",
							 box->dir);
			}
			*fd_r = fd;
			return true;
		}
		if (errno != ENOENT)
			return mailbox_error_errno(err, errno, "open(%s/...) failed", box->dir);
		if (!refresh_name(box, seq, err))
			return false;
	}
	return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: message keeps moving", box->dir);
}

bool mailbox_mail_get_dates(struct mailbox *box, uint32_t seq, int64_t *internal_date_r,
			    int64_t *save_date_r, struct mailbox_error *err)
{
	struct mail_record *rec;

	if (seq == 0 || seq > box->view.count)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "No such message");
	rec = &box->view.recs[seq - 1];
	if (rec->internal_date == INDEX_DATE_UNKNOWN) {
		struct stat st;
		int fd;

		if (!mailbox_mail_open(box, seq, &fd, err))
			return false;
		if (fstat(fd, &st) < 0) {
			close(fd);
			return mailbox_error_errno(err, errno, "fstat(%s/...) failed", box->dir);
		}
		close(fd);
		rec = &box->view.recs[seq - 1];
		rec->internal_date = (int64_t)st.st_mtim.tv_sec;
		if (!box->readonly || box->index_path != NULL)
			box->dates_dirty = true;
	}
	*internal_date_r = rec->internal_date;
	*save_date_r = rec->save_date != INDEX_DATE_UNKNOWN ? rec->save_date : rec->internal_date;
	return true;
}

/* ---- cache ---- */

static bool cache_ensure_open(struct mailbox *box)
{
	struct mailbox_error err;

	if (box->cache != NULL || box->cache_path == NULL || box->cache_checked)
		return box->cache != NULL;
	box->cache_checked = true;
	if (box->view.hdr.cache_file_id == 0)
		return false;
	if (index_cache_open(box->cache_path, box->view.hdr.cache_file_id,
			     box->view.hdr.uidvalidity, &box->cache, &err) < 0)
		log_warning("%s", err.text);
	return box->cache != NULL;
}

bool mailbox_cache_lookup(struct mailbox *box, uint32_t seq, uint16_t field, const uint8_t **data_r,
			  size_t *len_r)
{
	const struct mail_record *rec = mailbox_record(box, seq);

	if (rec == NULL || rec->cache_off == 0 || !cache_ensure_open(box))
		return false;
	return index_cache_lookup(box->cache, rec->cache_off, rec->uid, field, data_r, len_r);
}

/* Creates the cache file (with the lock held) and records it in the index. */
static bool cache_create(struct mailbox *box, struct mailbox_error *err)
{
	struct lock_file *lock = NULL;
	struct index_view state;
	uint64_t id;
	bool ok = false;

	if (mailbox_sync_lock(box, &lock, err) <= 0)
		return false;
	index_view_init(&state);
	if (!maildir_sync_state(box, lock, false, &state, err))
		goto out;
	if (state.hdr.cache_file_id == 0 ||
	    index_cache_open(box->cache_path, state.hdr.cache_file_id, state.hdr.uidvalidity,
			     &box->cache, err) <= 0) {
		if (!index_cache_create(box->cache_path, state.hdr.uidvalidity, &id, err))
			goto out;
		state.hdr.cache_file_id = id;
		for (size_t i = 0; i < state.count; i++)
			state.recs[i].cache_off = 0;
		maildir_sync_merge_local(box, &state);
		if (!maildir_sync_write_index(box, &state, err))
			goto out;
		if (index_cache_open(box->cache_path, id, state.hdr.uidvalidity, &box->cache,
				     err) <= 0)
			goto out;
	}
	/* The view's offsets point into whatever file it knew; from now on
	   they must match this one. */
	if (box->view.hdr.cache_file_id != state.hdr.cache_file_id) {
		for (size_t i = 0; i < box->view.count; i++) {
			ssize_t j = index_view_find(&state, box->view.recs[i].uid);

			box->view.recs[i].cache_off = j >= 0 ? state.recs[j].cache_off : 0;
		}
		box->view.hdr.cache_file_id = state.hdr.cache_file_id;
	}
	box->view_stale = true;
	ok = true;
out:
	index_view_deinit(&state);
	lock_file_release(&lock);
	return ok;
}

bool mailbox_cache_add(struct mailbox *box, uint32_t seq, uint16_t field, const void *data,
		       size_t len)
{
	const struct mail_record *rec = mailbox_record(box, seq);
	struct mailbox_error err;

	if (rec == NULL || box->cache_path == NULL || len > INDEX_CACHE_VALUE_MAX)
		return false;
	if (!cache_ensure_open(box) && !cache_create(box, &err)) {
		log_warning("%s: cannot create the cache: %s", box->dir, err.text);
		return false;
	}
	rec = mailbox_record(box, seq);
	if (!index_cache_add(box->cache, rec->uid, field, rec->cache_off, data, len))
		return false;
	if (index_cache_pending_size(box->cache) > INDEX_CACHE_PENDING_FLUSH &&
	    !mailbox_cache_flush(box, &err))
		log_warning("%s: could not write cached data: %s", box->dir, err.text);
	return true;
}

struct compact_ctx {
	struct index_cache *dst;
	uint32_t uid;
};

static void compact_cb(void *context, uint16_t field, const uint8_t *data, size_t len)
{
	struct compact_ctx *ctx = context;

	(void)index_cache_add(ctx->dst, ctx->uid, field, 0, data, len);
}

/* Applies flushed chain heads to a state sorted by UID. */
static void apply_heads(struct index_view *state, const struct index_cache_head *heads, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ssize_t j = index_view_find(state, heads[i].uid);

		if (j >= 0)
			state->recs[j].cache_off = heads[i].offset;
	}
}

/*
 * With the sync lock held: when the cache file has doubled since it was
 * last written fresh, copy the newest value of each field of each present
 * message into a new file (values of expunged messages and shadowed older
 * values are dropped) and point state at it. Best effort: on failure the
 * old file stays in use.
 */
static void cache_maybe_compact(struct mailbox *box, struct index_view *state)
{
	struct index_cache *dst = NULL;
	struct mailbox_error err;
	struct compact_ctx ctx;
	uint64_t size = index_cache_file_size(box->cache), id;
	uint64_t base = state->hdr.cache_compact_size;
	struct index_cache_head *heads;
	size_t nheads;
	struct index_view fresh;

	if (base == 0) {
		/* First look at this file: remember its size as the base. */
		state->hdr.cache_compact_size = size;
		return;
	}
	if (size < INDEX_CACHE_COMPACT_MIN || size < base * 2)
		return;
	index_view_init(&fresh);
	index_view_copy(&fresh, state);
	for (size_t i = 0; i < fresh.count; i++)
		fresh.recs[i].cache_off = 0;
	if (!index_cache_create(box->cache_path, state->hdr.uidvalidity, &id, &err) ||
	    index_cache_open(box->cache_path, id, state->hdr.uidvalidity, &dst, &err) <= 0)
		goto fail;
	ctx.dst = dst;
	for (size_t i = 0; i < state->count; i++) {
		if (state->recs[i].cache_off == 0)
			continue;
		ctx.uid = state->recs[i].uid;
		(void)index_cache_foreach(box->cache, state->recs[i].cache_off, ctx.uid, compact_cb,
					  &ctx);
		if (index_cache_pending_size(dst) > INDEX_CACHE_PENDING_FLUSH ||
		    i + 1 == state->count) {
			if (!index_cache_flush(dst, &heads, &nheads, &err))
				goto fail;
			apply_heads(&fresh, heads, nheads);
			free(heads);
		}
	}
	if (!index_cache_flush(dst, &heads, &nheads, &err))
		goto fail;
	apply_heads(&fresh, heads, nheads);
	free(heads);
	fresh.hdr.cache_file_id = id;
	fresh.hdr.cache_compact_size = index_cache_file_size(dst);
	index_view_move(state, &fresh);
	index_view_deinit(&fresh);
	index_cache_close(&box->cache);
	box->cache = dst;
	log_debug("%s: cache file compacted from %llu to %llu bytes", box->dir,
		  (unsigned long long)size, (unsigned long long)state->hdr.cache_compact_size);
	return;
fail:
	/* The index still names the old file's id; a half-written new file
	   is simply not used. */
	log_warning("%s: cache compaction failed: %s", box->dir, err.text);
	index_cache_close(&dst);
	index_view_deinit(&fresh);
	index_cache_close(&box->cache);
	box->cache_checked = false;
}

bool mailbox_cache_flush(struct mailbox *box, struct mailbox_error *err)
{
	struct lock_file *lock = NULL;
	struct index_view state;
	struct index_cache_head *heads = NULL;
	size_t nheads = 0;
	bool ok = false, same;

	if (box->cache == NULL || index_cache_pending_size(box->cache) == 0)
		return true;
	if (mailbox_sync_lock(box, &lock, err) <= 0)
		return false;
	index_view_init(&state);
	if (!maildir_sync_state(box, lock, false, &state, err))
		goto out;
	same = box->view_loaded && !box->view_stale &&
	       index_file_stat_equal(&box->index_st, &box->view_index_st);
	if (state.hdr.cache_file_id != index_cache_file_id(box->cache)) {
		/* Replaced meanwhile: our offsets would point into the
		   wrong file. The values will be computed again. */
		index_cache_drop_pending(box->cache);
		index_cache_close(&box->cache);
		box->cache_checked = false;
		ok = true;
		goto out;
	}
	if (!index_cache_flush(box->cache, &heads, &nheads, err))
		goto out;
	apply_heads(&state, heads, nheads);
	cache_maybe_compact(box, &state);
	/* The view follows the state's offsets (the file may be new). */
	for (size_t v = 0, j = 0; v < box->view.count; v++) {
		while (j < state.count && state.recs[j].uid < box->view.recs[v].uid)
			j++;
		box->view.recs[v].cache_off =
			j < state.count && state.recs[j].uid == box->view.recs[v].uid
				? state.recs[j].cache_off
				: 0;
	}
	box->view.hdr.cache_file_id = state.hdr.cache_file_id;
	maildir_sync_merge_local(box, &state);
	if (!maildir_sync_write_index(box, &state, err))
		goto out;
	if (same) {
		box->view.hdr = state.hdr;
		box->view_index_st = box->index_st;
	} else {
		box->view_stale = true;
	}
	ok = true;
out:
	free(heads);
	index_view_deinit(&state);
	lock_file_release(&lock);
	return ok;
}

/* ---- change notification ---- */

size_t mailbox_watch_paths(const struct mailbox *box, const char **paths_r, size_t max)
{
	const char *cands[4] = {box->new_path, box->cur_path, box->control_dir, box->index_dir};
	size_t n = 0;

	for (size_t i = 0; i < N_ELEMENTS(cands) && n < max; i++) {
		bool dup = cands[i] == NULL;

		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(paths_r[j], cands[i]) == 0;
		if (!dup)
			paths_r[n++] = cands[i];
	}
	return n;
}

/* The process's inotify instance, opened at the first watch. */
static int watch_fd = -1;

int mailbox_watch_start(struct mailbox *box, struct mailbox_error *err)
{
	const char *paths[N_ELEMENTS(box->watch_wds)];
	size_t n = mailbox_watch_paths(box, paths, N_ELEMENTS(paths));
	uint8_t drain[4096];

	mailbox_watch_stop(box);
	if (watch_fd < 0) {
		watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (watch_fd < 0) {
			mailbox_error_errno(err, errno, "inotify_init1() failed");
			return -1;
		}
	}
	/* Events of earlier watches (and their IN_IGNORED) are old news. */
	while (read(watch_fd, drain, sizeof(drain)) > 0)
		;
	for (size_t i = 0; i < n; i++) {
		uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO;
		int wd;

		if (strcmp(paths[i], box->new_path) == 0 || strcmp(paths[i], box->cur_path) == 0)
			mask |= IN_MOVED_FROM;
		else
			/* dovecot-uidlist grows by appends; the index is swapped
			   in (IN_MOVED_TO). One event per writer's close rather
			   than IN_MODIFY's one per write(2): each wakes every
			   session in IDLE. */
			mask |= IN_CLOSE_WRITE;
		wd = inotify_add_watch(watch_fd, paths[i], mask | IN_ONLYDIR);
		if (wd < 0) {
			mailbox_error_errno(err, errno, "inotify_add_watch(%s) failed", paths[i]);
			mailbox_watch_stop(box);
			return -1;
		}
		box->watch_wds[box->watch_count++] = wd;
	}
	return watch_fd;
}

void mailbox_watch_stop(struct mailbox *box)
{
	for (size_t i = 0; i < box->watch_count; i++) {
		bool seen = false;

		/* Two paths may be one directory, and so one watch. */
		for (size_t j = 0; j < i; j++)
			seen = seen || box->watch_wds[j] == box->watch_wds[i];
		if (!seen)
			(void)inotify_rm_watch(watch_fd, box->watch_wds[i]);
	}
	box->watch_count = 0;
}

/* ---- maintenance ---- */

int mailbox_cleanup_tmp(struct mailbox *box, int64_t older_than, struct mailbox_error *err)
{
	struct dirent *d;
	DIR *dir;
	int fd, deleted = 0;
	int64_t limit = (int64_t)time(NULL) - older_than;

	if (box->readonly)
		return 0;
	fd = openat(box->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		mailbox_error_errno(err, errno, "open(%s) failed", box->tmp_path);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		if (fstatat(box->tmp_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(st.st_mode))
			continue;
		if (st.st_mtim.tv_sec < limit && st.st_ctim.tv_sec < limit &&
		    unlinkat(box->tmp_fd, d->d_name, 0) == 0)
			deleted++;
	}
	closedir(dir);
	return deleted;
}
