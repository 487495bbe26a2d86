/*
 * Internals shared by the storage's Maildir modules (mailbox.c,
 * mailbox-list.c, maildir-sync.c, maildir-save.c, maildir-update.c). Not for
 * use outside storage/. Same trust rules as mailbox.h.
 */
#ifndef ROOST_MAILBOX_PRIVATE_H
#define ROOST_MAILBOX_PRIVATE_H

#include <sys/stat.h>

#include "index-cache.h"
#include "index-file.h"
#include "lock.h"
#include "mailbox.h"
#include "maildir-keywords.h"
#include "maildir-uidlist.h"
#include "mountpoint.h"

#define MAILBOX_LOCK_FILE	   "roost.lock"
#define MAILBOX_SESSION_LOCK_FILE  "roost-session.lock"
#define MAILBOX_UIDVALIDITY_FILE   "dovecot-uidvalidity"
#define MAILBOX_SUBSCRIPTIONS_FILE "subscriptions"
#define MAILDIR_FOLDER_FILE	   "maildirfolder"
/* A directory mtime is settled if it was at least this old when read. */
#define MAILDIR_SYNC_SETTLE_NS	    1000000000LL
#define MAILDIR_SYNC_SETTLE_FINE_NS 100000000LL
/* An unsettled one is trusted this long, then the directory is read again. */
#define MAILDIR_SYNC_TRUST_NS 1000000000LL
/* tmp/ files older than this are leftovers of crashed writers. */
#define MAILDIR_TMP_MAX_AGE	     (36 * 3600)
#define MAILDIR_TMP_SCAN_INTERVAL    (8 * 3600)
#define MAILBOX_DEFAULT_LOCK_TIMEOUT 30

struct mail_storage {
	struct mail_location *loc;
	char *hostname;
	struct quota_rules quota;
	struct mountpoint_list mounts;
	bool have_mounts;
	unsigned int lock_timeout_ms;
	enum mail_fsync_mode fsync;
	unsigned int dir_mode;
	unsigned int file_mode;
	bool very_dirty_syncs;
};

struct mailbox {
	struct mail_storage *storage;
	char *name;
	unsigned int flags;
	bool readonly;
	/* Never move new/ to cur/ (read-only and delivery-only boxes). */
	bool no_moves;

	char *dir;	   /* Maildir directory */
	char *control_dir; /* uidlist, keywords, locks */
	char *index_dir;   /* roost.index and cache; NULL = INDEX=MEMORY */
	char *new_path;
	char *cur_path;
	char *tmp_path;
	char *uidlist_path;
	char *keywords_path;
	char *lock_path;
	char *index_path;
	char *cache_path;
	int new_fd;
	int cur_fd;
	int tmp_fd;
	/* mailbox_watch_start's watches on the process's inotify instance. */
	int watch_wds[4];
	size_t watch_count;

	struct lock_file *session_lock;

	/* What the session sees; replaced only by mailbox_sync. */
	struct index_view view;
	bool view_loaded;
	/* The index file the disk state was last read from or written to. */
	struct index_file_stat index_st;
	bool index_st_valid;
	/* The view differs from the last known disk state (another
	   session's changes were merged while updating). */
	bool view_stale;
	/* The index file the view corresponds to. */
	struct index_file_stat view_index_st;
	bool keywords_changed;
	/* Lazily learned dates to write back. */
	bool dates_dirty;
	/* Recent UIDs claimed by this session, ascending. */
	uint32_t *recent_uids;
	size_t recent_count;
	size_t recent_alloc;

	/* Kept between syncs so appends are read incrementally. */
	struct maildir_uidlist uidlist;
	struct maildir_uidlist_stat uidlist_st;
	bool uidlist_loaded;

	struct maildir_keywords keywords;
	bool keywords_loaded;

	struct index_cache *cache;
	bool cache_checked;

	/* INDEX=MEMORY: what would be the index file. */
	struct index_view mem_index;
	bool mem_index_valid;

	/* dovecot-keywords as last read. */
	uint64_t keywords_ino;
	int64_t keywords_mtime_ns;
	uint64_t keywords_size;
};

/* Builds "dir/name" into a new string (i_malloc'd). */
char *mailbox_path_join(const char *dir, const char *name);
/* mkdir -p for an absolute path (mode for created dirs); false with err. */
bool mailbox_mkdir_parents(const char *path, unsigned int mode, struct mailbox_error *err);
/* Creates dir with tmp/ new/ cur/; is_folder adds the maildirfolder file. */
bool mailbox_create_maildir(struct mail_storage *storage, const char *dir, bool is_folder,
			    struct mailbox_error *err);
/* The directories of a mailbox name: the Maildir, its control and index
   directories (index NULL for INDEX=MEMORY). Caller frees all three. */
bool mailbox_get_dirs(struct mail_storage *storage, const char *name, char **dir_r,
		      char **control_r, char **index_r, struct mailbox_error *err);
/* A new UIDVALIDITY: max(now, last handed out + 1), remembered in the root's
   dovecot-uidvalidity file. */
uint32_t mailbox_new_uidvalidity(struct mail_storage *storage);
/* Milliseconds to wait for locks. */
unsigned int mailbox_lock_timeout_ms(const struct mail_storage *storage);

/* The sync lock: exclusive, short, for uidlist/keywords/index updates. */
int mailbox_sync_lock(struct mailbox *box, struct lock_file **lock_r, struct mailbox_error *err);

/*
 * Brings the on-disk state (uidlist, index) up to date and returns it in
 * *state (caller deinits). If lock is NULL, a sync lock is taken only when
 * the index is out of date; if the caller already holds it, pass it.
 * force_scan re-reads both directories. With claim_recent, new messages
 * since the last claim are returned in *recent_r (may be NULL).
 */
bool maildir_sync_state(struct mailbox *box, struct lock_file *lock, bool force_scan,
			struct index_view *state, struct mailbox_error *err);
/* Whether a header's directory and uidlist stamps match these stats. */
bool maildir_sync_dirs_current(const struct index_header *hdr, const struct stat *new_st,
			       const struct stat *cur_st, const struct stat *uidlist_st);
/*
 * Around a change roost makes to cur/ under the lock: _begin stats cur/
 * and says whether the index matched it; _end, if it did, records the new
 * mtime so the next syncs need not read cur/ again (settled with
 * very_dirty_syncs, else trusted for MAILDIR_SYNC_TRUST_NS).
 */
bool maildir_cur_change_begin(struct mailbox *box, const struct index_header *hdr);
void maildir_cur_change_end(struct mailbox *box, struct index_header *hdr, bool was_current);
/* How long until a header's unsettled directory stamps stop being trusted
   (0 if they are settled). */
int64_t maildir_sync_recheck_ns(const struct index_header *hdr);
/* qsort comparator for uint32_t. */
int maildir_cmp_u32(const void *a, const void *b);

/* Writes state as the new index (holding the lock); updates box->index_st. */
bool maildir_sync_write_index(struct mailbox *box, struct index_view *state,
			      struct mailbox_error *err);
/* Applies the view's lazily learned dates and pending cache heads to state. */
void maildir_sync_merge_local(struct mailbox *box, struct index_view *state);

/* renameat() that never replaces an existing target (EEXIST instead);
   falls back to link+unlink where RENAME_NOREPLACE is unsupported. */
int maildir_rename_noreplace(int fromfd, const char *from, int tofd, const char *to);
/* Opens the file of rec (in state/view names) in new/ or cur/. */
int maildir_open_record(struct mailbox *box, const struct index_view *view,
			const struct mail_record *rec, int flags);
/* Reads a message file once: size and size with CRLF line ends. size_hint
   is the file's size from fstat() (0 if unknown): a short read reaching
   it ends the file without one more read() returning 0. */
bool maildir_file_sizes(int fd, uint64_t size_hint, uint64_t *psize_r, uint64_t *vsize_r);

/* Reloads dovecot-keywords if it changed. */
bool mailbox_keywords_refresh(struct mailbox *box, struct mailbox_error *err);

/* Takes \Recent for UIDs in [first, next) in the session. */
void mailbox_recent_add(struct mailbox *box, uint32_t first, uint32_t next);

/* Quota check for count more messages of size bytes saved into box. */
bool mailbox_quota_check(struct mailbox *box, uint64_t size, uint64_t count,
			 struct mailbox_error *err);

#ifdef ROOST_TEST_HOOKS
/* Called at each step of a save commit (see maildir-save.c) so tests can
   simulate a crash there. */
extern void (*maildir_save_test_hook)(int step);
#endif

/* Current wall clock in ns. */
int64_t mailbox_now_ns(void);

#endif
