/*
 * roost's mail store: the API that roost-imap, roost-pop3 and roost-lda use
 * to reach a user's Maildir. It runs inside those unprivileged, sandboxed
 * processes as the mail user, several at once on one mailbox. The Maildir
 * is the truth; dovecot-uidlist and dovecot-keywords keep UIDs and keywords
 * Dovecot-compatible; roost.index and roost.index.cache are caches rebuilt
 * whenever they look wrong. Every name and byte read from disk is untrusted.
 *
 * Conventions: functions returning bool report failure as false with *err
 * filled in (err may be NULL). Sequence numbers are 1-based positions in
 * the session's view, which changes only in mailbox_sync(). Strings and
 * pointers returned are owned by the storage/mailbox and stay valid until
 * the next call that may change the view unless said otherwise.
 */
#ifndef ROOST_MAILBOX_H
#define ROOST_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index-file.h"
#include "mail-location.h"
#include "mailbox-error.h"
#include "mailbox-flags.h"
#include "quota.h"

/* ---- storage: one per session, for one user ---- */

enum mail_fsync_mode {
	/* fsync message files and the directory they are moved into;
	   dovecot-uidlist is appended without fsync. The default. */
	MAIL_FSYNC_OPTIMIZED,
	/* additionally fdatasync dovecot-uidlist after every change. */
	MAIL_FSYNC_ALWAYS,
	/* never fsync (tests, tmpfs). */
	MAIL_FSYNC_NEVER,
};

struct mail_storage_settings {
	const char *mail_location; /* "maildir:~/Maildir[:INDEX=..][:CONTROL=..]" */
	const char *user;	   /* login name, for %u %n %d */
	const char *home;	   /* for ~ and %h; may be NULL */
	const char *hostname;	   /* for new file names; NULL = gethostname() */
	/* state_dir/mounts written by `roostadm mount add`; NULL = none. */
	const char *mountpoints_file;
	/* quota_rule values, NULL-terminated; NULL = no quota. */
	const char *const *quota_rules;
	/* mail_max_lock_timeout: longest wait for any lock (0 = 30 s). */
	unsigned int lock_timeout_secs;
	enum mail_fsync_mode fsync;
	/* Mode bits for new directories and files (0 = 0700 / 0600). */
	unsigned int dir_mode;
	unsigned int file_mode;
	/* maildir_very_dirty_syncs: trust that cur/ changed only by roost's
	   own renames and unlinks (made under the lock) and never read it
	   again for them. Without it, cur/ is read once more about a second
	   after a burst of roost's own changes, in case a program other than
	   roost renamed a file in the same instant. Default off, as in
	   Dovecot. */
	bool very_dirty_syncs;
};

struct mail_storage;

/*
 * Parses the settings, checks mountpoints and quota rules, and creates the
 * mail root (with tmp/ new/ cur/) if it is missing. Errors: PARAMS for bad
 * mail_location or quota_rule, NOT_MOUNTED when the root is under a
 * registered mountpoint that is not mounted (nothing created), TEMP/PERM
 * for file system failures. *storage_r is freed with mail_storage_destroy.
 */
bool mail_storage_create(const struct mail_storage_settings *set, struct mail_storage **storage_r,
			 struct mailbox_error *err);
void mail_storage_destroy(struct mail_storage **storage);
const struct mail_location *mail_storage_location(const struct mail_storage *storage);
const struct quota_rules *mail_storage_quota_rules(const struct mail_storage *storage);
/* NOT_MOUNTED if the mail root's registered mountpoint is gone now. */
bool mail_storage_check_mounted(struct mail_storage *storage, struct mailbox_error *err);

/* ---- mailbox list (names: UTF-8, '/' separated, "INBOX" special) ---- */

enum mailbox_info_flags {
	MAILBOX_INFO_NOSELECT = 0x01, /* only a parent of other mailboxes */
	MAILBOX_INFO_HAS_CHILDREN = 0x02,
	MAILBOX_INFO_HAS_NO_CHILDREN = 0x04,
	MAILBOX_INFO_SUBSCRIBED = 0x08,
	MAILBOX_INFO_NONEXISTENT = 0x10, /* subscribed but not present */
};

struct mailbox_info {
	char *name;
	unsigned int flags; /* MAILBOX_INFO_* */
};

struct mailbox_list {
	struct mailbox_info *infos;
	size_t count;
};

/*
 * Lists every mailbox: INBOX first, then the others sorted by name, with
 * \Noselect entries for parents that exist only through their children,
 * children flags and subscription state (subscribed names that do not
 * exist are listed with NONEXISTENT). Directory entries that are not valid
 * mailbox names are skipped. Free with mailbox_list_free.
 */
bool mailbox_list_get(struct mail_storage *storage, struct mailbox_list *list_r,
		      struct mailbox_error *err);
void mailbox_list_free(struct mailbox_list *list);

/* Whether name is an existing, selectable mailbox (INVALID_NAME errors). */
bool mailbox_exists(struct mail_storage *storage, const char *name, bool *exists_r,
		    struct mailbox_error *err);
/* Creates name with tmp/ new/ cur/ and a maildirfolder file. EXISTS if it
   is there, INVALID_NAME, NOT_MOUNTED. */
bool mailbox_create(struct mail_storage *storage, const char *name, struct mailbox_error *err);
/* Deletes name and its messages (not its children, which stay listed under
   a \Noselect parent). INBOX gives NOT_ALLOWED, a missing name NOT_FOUND. */
bool mailbox_delete(struct mail_storage *storage, const char *name, struct mailbox_error *err);
/*
 * Renames old to new with all its children. EXISTS if new (or a child's new
 * name) is taken, NOT_ALLOWED when new lies under old. Renaming INBOX
 * follows IMAP: its messages move to the new mailbox, INBOX stays, empty,
 * and its children do not move.
 */
bool mailbox_rename(struct mail_storage *storage, const char *old_name, const char *new_name,
		    struct mailbox_error *err);

/* Reads the subscriptions file (Dovecot's format, "V\t2" header, '\t'
   hierarchy separator). *names_r (NULL-terminated, caller frees with
   mailbox_subscriptions_free) lists the subscribed names in file order. */
bool mailbox_subscriptions_get(struct mail_storage *storage, char ***names_r,
			       struct mailbox_error *err);
void mailbox_subscriptions_free(char ***names);
/* Adds or removes name (which need not exist) in the subscriptions file. */
bool mailbox_subscribe(struct mail_storage *storage, const char *name, bool subscribe,
		       struct mailbox_error *err);

/* The user's quota usage: index header sums over all mailboxes not
   ignored by the rules, plus messages saved since each index was written. */
bool mail_storage_quota_usage(struct mail_storage *storage, struct quota_usage *usage_r,
			      struct mailbox_error *err);

/* ---- opening a mailbox ---- */

enum mailbox_open_flags {
	/* EXAMINE: never rename, move or expunge files (the index and the
	   uidlist may still be updated: they are caches/UID assignments). */
	MAILBOX_OPEN_READONLY = 0x01,
	/* Delivery: no view is loaded and mailbox_sync is not allowed; only
	   saving. Opening is a few stat() calls. */
	MAILBOX_OPEN_SAVE_ONLY = 0x02,
	/* IMAP SELECT: new messages become \Recent in this session only. */
	MAILBOX_OPEN_CLAIM_RECENT = 0x04,
	/* pop3_lock_session: hold an exclusive session lock until close; a
	   second opener waits lock_timeout_secs, then LOCK_TIMEOUT. */
	MAILBOX_OPEN_SESSION_LOCK = 0x08,
	/* Create the mailbox if it does not exist. */
	MAILBOX_OPEN_AUTOCREATE = 0x10,
};

struct mailbox;

/*
 * Opens name and (unless SAVE_ONLY) synchronises it, so the view lists its
 * messages. NOT_FOUND, INVALID_NAME, LOCK_TIMEOUT (session lock: "Timeout
 * while waiting for lock"), NOT_MOUNTED, TEMP. Close with mailbox_close.
 */
bool mailbox_open(struct mail_storage *storage, const char *name, unsigned int flags,
		  struct mailbox **box_r, struct mailbox_error *err);
/* Flushes cached data and lazily learned dates, releases locks, frees. */
void mailbox_close(struct mailbox **box);

const char *mailbox_get_name(const struct mailbox *box);
bool mailbox_is_readonly(const struct mailbox *box);
/* The Maildir directory of the mailbox (for logs). */
const char *mailbox_get_path(const struct mailbox *box);

/* ---- the view and synchronisation ---- */

enum mailbox_sync_flags {
	/* Re-read the directories even if their mtimes look unchanged. */
	MAILBOX_SYNC_FORCE_SCAN = 0x01,
};

/* What changed between the previous view and the new one. Sequence numbers
   of expunges refer to the OLD view, ascending; send IMAP EXPUNGE
   responses in descending order (or adjust). changed_seqs refer to the NEW
   view. */
struct mailbox_changes {
	bool uidvalidity_changed; /* the client must start over (BYE) */
	bool keywords_changed;	  /* new keywords: send FLAGS again */
	uint32_t *expunged_uids;
	uint32_t *expunged_seqs;
	size_t expunged_count;
	uint32_t *changed_seqs; /* flags, keywords or modseq changed by others */
	size_t changed_count;
	uint32_t old_count;
	uint32_t new_count; /* EXISTS when it differs from old_count - expunges */
	uint32_t recent_count;
};

/*
 * Brings the view up to date with the Maildir (and other sessions), and
 * reports the differences in *changes (may be NULL; free with
 * mailbox_changes_free). Also flushes queued cache values. Cheap when
 * nothing changed: a few stat() calls. LOCK_TIMEOUT, TEMP. This is the only
 * call that removes messages from the view or renumbers it, so the IMAP
 * layer calls it only where EXPUNGE responses are allowed (not during
 * FETCH, STORE or SEARCH).
 */
bool mailbox_sync(struct mailbox *box, unsigned int flags, struct mailbox_changes *changes,
		  struct mailbox_error *err);
void mailbox_changes_free(struct mailbox_changes *changes);
/* Milliseconds until mailbox_sync should be called again to read a
   directory whose last change was too recent to be sure of (0: not
   needed). For waiters such as IDLE, which otherwise sync only when
   inotify wakes them. */
unsigned int mailbox_sync_recheck_msecs(const struct mailbox *box);

uint32_t mailbox_count(const struct mailbox *box);
/* The record at seq (1..count), or NULL. Fields: uid, flags (MAIL_* plus
   MAIL_RECENT), keywords, psize, vsize (RFC822.SIZE), modseq. Dates may be
   INDEX_DATE_UNKNOWN: use mailbox_mail_get_dates. */
const struct mail_record *mailbox_record(const struct mailbox *box, uint32_t seq);
/* Sequence of uid in the view, or 0. */
uint32_t mailbox_seq_by_uid(const struct mailbox *box, uint32_t uid);
/* First sequence whose uid >= uid (count + 1 if none): for UID ranges. */
uint32_t mailbox_seq_from_uid(const struct mailbox *box, uint32_t uid);
uint32_t mailbox_uidvalidity(const struct mailbox *box);
uint32_t mailbox_next_uid(const struct mailbox *box);
uint64_t mailbox_highest_modseq(const struct mailbox *box);

struct mailbox_status {
	uint32_t messages;
	uint32_t recent;
	uint32_t unseen;
	uint32_t first_unseen_seq; /* 0 if none */
	uint32_t uidnext;
	uint32_t uidvalidity;
	uint64_t highest_modseq;
	uint64_t vsize; /* STATUS=SIZE: sum of RFC822.SIZE */
	uint32_t deleted;
};
/* Counts over the current view. */
void mailbox_get_status(const struct mailbox *box, struct mailbox_status *status_r);
/* STATUS for a mailbox without keeping it open (opens read-only, syncs,
   closes). */
bool mailbox_status_peek(struct mail_storage *storage, const char *name,
			 struct mailbox_status *status_r, struct mailbox_error *err);

/*
 * UIDs expunged with a modseq above since (QRESYNC VANISHED (EARLIER)),
 * ascending; *complete_r is false when the log no longer reaches back to
 * since, and the caller must treat every unknown UID as possibly expunged.
 * *uids_r is freed by the caller.
 */
bool mailbox_expunged_since(struct mailbox *box, uint64_t since, uint32_t **uids_r, size_t *count_r,
			    bool *complete_r, struct mailbox_error *err);

/* ---- keywords ---- */

/* Keyword at idx (0..25), or NULL if unused. */
const char *mailbox_keyword_name(const struct mailbox *box, unsigned int idx);
/* Index of a keyword (case-insensitive), or -1. */
int mailbox_keyword_lookup(const struct mailbox *box, const char *name);
/* Index of name, adding it to dovecot-keywords if new. LIMIT when all 26
   letters are taken, PARAMS when name is not a valid IMAP atom. */
bool mailbox_keyword_add(struct mailbox *box, const char *name, unsigned int *idx_r,
			 struct mailbox_error *err);

/* ---- messages ---- */

/*
 * Opens the message file of seq read-only (O_CLOEXEC). If another process
 * renamed it (flag change), the new name is found and used; EXPUNGED if
 * the message is gone. The caller closes the fd.
 */
bool mailbox_mail_open(struct mailbox *box, uint32_t seq, int *fd_r, struct mailbox_error *err);
/* Internal date (file mtime) and save date, looked up and remembered in
   the index on first use. */
bool mailbox_mail_get_dates(struct mailbox *box, uint32_t seq, int64_t *internal_date_r,
			    int64_t *save_date_r, struct mailbox_error *err);

enum mailbox_flag_op {
	MAILBOX_FLAGS_REPLACE,
	MAILBOX_FLAGS_ADD,
	MAILBOX_FLAGS_REMOVE,
};

enum mailbox_update_status {
	MAILBOX_UPDATE_CHANGED,
	MAILBOX_UPDATE_UNCHANGED, /* already had those flags */
	MAILBOX_UPDATE_MODIFIED,  /* UNCHANGEDSINCE failed */
	MAILBOX_UPDATE_EXPUNGED,
};

struct mailbox_update_result {
	uint32_t uid;
	enum mailbox_update_status status;
	uint32_t flags;
	uint32_t keywords;
	uint64_t modseq;
};

/*
 * Changes flags and keywords of the messages with the given UIDs by
 * renaming their files (a file renamed meanwhile by another process is
 * found again by rescanning). unchanged_since (0 = none) is CONDSTORE's
 * UNCHANGEDSINCE. results (count entries, may be NULL) says what happened
 * to each UID; the view is updated for changed messages. READONLY boxes
 * give NOT_ALLOWED. LOCK_TIMEOUT, TEMP.
 */
bool mailbox_update_flags(struct mailbox *box, const uint32_t *uids, size_t count,
			  enum mailbox_flag_op op, uint32_t flags, uint32_t keywords,
			  uint64_t unchanged_since, struct mailbox_update_result *results,
			  struct mailbox_error *err);

/*
 * Removes the messages with the given UIDs (unlink). UIDs not present are
 * ignored. The view still lists them until the next mailbox_sync, which
 * reports them as expunged.
 */
bool mailbox_expunge(struct mailbox *box, const uint32_t *uids, size_t count,
		     struct mailbox_error *err);

/*
 * Copies messages of src (by UID) into dest by hard link (falling back to
 * copying the bytes), keeping flags and keywords (by name) and internal
 * dates. dest_uids_r (count entries, may be NULL) gets each new UID, 0 for
 * a source message that was already expunged. OVER_QUOTA, NOT_MOUNTED,
 * TEMP.
 */
bool mailbox_copy(struct mailbox *src, const uint32_t *uids, size_t count, struct mailbox *dest,
		  uint32_t *dest_uids_r, struct mailbox_error *err);

/* ---- saving (delivery, APPEND) ---- */

struct mailbox_save_params {
	uint32_t flags;		/* MAIL_* */
	uint32_t keywords;	/* keyword bits of the target mailbox */
	int64_t internal_date;	/* seconds; INDEX_DATE_UNKNOWN = now */
	bool crlf_to_lf;	/* store CRLF line ends as LF (APPEND) */
	uint64_t expected_size; /* for an early quota check; 0 = unknown */
};

struct mailbox_save;

/*
 * Starts saving a message: checks mountpoint and quota (expected_size),
 * creates a uniquely named file in tmp/. Works on SAVE_ONLY and normal
 * boxes (not READONLY: NOT_ALLOWED).
 */
bool mailbox_save_begin(struct mailbox *box, const struct mailbox_save_params *params,
			struct mailbox_save **save_r, struct mailbox_error *err);
/* Appends message bytes. TEMP (disk full...) leaves the save to abort. */
bool mailbox_save_write(struct mailbox_save *save, const void *data, size_t len,
			struct mailbox_error *err);
/*
 * Finishes: fsyncs the file, checks the quota with the real size, moves it
 * into new/ (cur/ if flags), fsyncs the directory, then records a UID in
 * dovecot-uidlist. *uid_r is the UID, or 0 if the message was stored
 * safely but its UID could not be recorded yet (it gets one at the next
 * sync; the failure is logged). On failure nothing is left behind.
 * *save is freed and set to NULL either way.
 */
bool mailbox_save_finish(struct mailbox_save **save, uint32_t *uid_r, struct mailbox_error *err);
/* Drops the message being saved; *save is freed and set to NULL. */
void mailbox_save_abort(struct mailbox_save **save);

/* ---- cache (opaque values keyed by message and field id) ---- */

/*
 * The cached value of field for seq. The pointer is valid until the next
 * cache call on box. False if not cached (or the cache is damaged).
 */
bool mailbox_cache_lookup(struct mailbox *box, uint32_t seq, uint16_t field, const uint8_t **data_r,
			  size_t *len_r);
/* Queues a value; it becomes visible to lookups after a flush (done by
   mailbox_sync, mailbox_close and automatically past a few MB). False if
   the value is too large or the box has no cache (INDEX=MEMORY). */
bool mailbox_cache_add(struct mailbox *box, uint32_t seq, uint16_t field, const void *data,
		       size_t len);
bool mailbox_cache_flush(struct mailbox *box, struct mailbox_error *err);

/* ---- change notification ---- */

/*
 * Paths to watch with inotify to learn of changes by other processes:
 * new/, cur/, the directory holding dovecot-uidlist and the directory
 * holding roost.index (some may be the same). Returns how many were put in
 * paths_r (at most max); pointers owned by box.
 */
size_t mailbox_watch_paths(const struct mailbox *box, const char **paths_r, size_t max);
/*
 * Starts watching those paths: returns the process's inotify descriptor
 * (non-blocking, close-on-exec, owned by the storage: never close it),
 * readable when something changed: drain it and call mailbox_sync.
 * mailbox_watch_stop (or mailbox_close) ends the watch. One descriptor
 * serves every watch of the process and stays open: closing an inotify
 * instance waits for an RCU grace period, 16 ms on a busy machine, which
 * an IDLE ... DONE would otherwise pay each time. -1 with err on failure.
 */
int mailbox_watch_start(struct mailbox *box, struct mailbox_error *err);
void mailbox_watch_stop(struct mailbox *box);

/* ---- maintenance ---- */

/* Deletes files in tmp/ whose mtime and ctime are older than older_than
   seconds (36 hours in normal operation, done automatically by sync at
   most every 8 hours). Returns how many were deleted, -1 on error. */
int mailbox_cleanup_tmp(struct mailbox *box, int64_t older_than, struct mailbox_error *err);

#endif
