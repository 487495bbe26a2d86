/*
 * Unit tests for the mail store as its users see it (storage/mailbox.h):
 * saving, syncing, several sessions seeing each other's changes, foreign
 * programs changing the Maildir, index corruption and loss, crash safety of
 * every save step, locking, names that try to escape the mail root, the
 * mailbox list, subscriptions, keywords, copies, quota and mountpoints.
 * Each test works in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "log.h"
#include "../../storage/mailbox-private.h"
#include "../../storage/mailbox-subscriptions.h"
#include "../../storage/maildir-filename.h"

static char base[64];
static char root[128];

static int setup(void **state)
{
	(void)state;
	str_copy(base, sizeof(base), "/tmp/roost-test-mailbox.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static bool very_dirty;

static struct mail_storage *storage_with(const char *location_suffix, const char *const *quota,
					 const char *mounts, unsigned int lock_secs)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;
	char loc[512];

	snprintf(loc, sizeof(loc), "maildir:%s%s", root, location_suffix);
	set.mail_location = loc;
	set.user = "jdoe@example.com";
	set.home = base;
	set.hostname = "test.example";
	set.fsync = MAIL_FSYNC_NEVER;
	set.quota_rules = quota;
	set.mountpoints_file = mounts;
	set.lock_timeout_secs = lock_secs;
	set.very_dirty_syncs = very_dirty;
	if (!mail_storage_create(&set, &storage, &err))
		fail_msg("storage: %s", err.text);
	return storage;
}

static struct mail_storage *storage_new(void)
{
	return storage_with("", NULL, NULL, 5);
}

static struct mailbox *box_open(struct mail_storage *storage, const char *name, unsigned int flags)
{
	struct mailbox *box;
	struct mailbox_error err;

	if (!mailbox_open(storage, name, flags, &box, &err))
		fail_msg("open %s: %s", name, err.text);
	return box;
}

static uint32_t save_full(struct mailbox *box, const char *data, uint32_t flags, uint32_t keywords,
			  int64_t date, bool crlf_to_lf)
{
	struct mailbox_save_params params = {0};
	struct mailbox_save *save;
	struct mailbox_error err;
	uint32_t uid;

	params.flags = flags;
	params.keywords = keywords;
	params.internal_date = date;
	params.crlf_to_lf = crlf_to_lf;
	if (!mailbox_save_begin(box, &params, &save, &err))
		fail_msg("save_begin: %s", err.text);
	/* Written in two pieces to cross a chunk boundary. */
	assert_true(mailbox_save_write(save, data, strlen(data) / 2, &err));
	assert_true(mailbox_save_write(save, data + strlen(data) / 2,
				       strlen(data) - strlen(data) / 2, &err));
	if (!mailbox_save_finish(&save, &uid, &err))
		fail_msg("save_finish: %s", err.text);
	assert_null(save);
	return uid;
}

static uint32_t save_msg(struct mailbox *box, const char *data)
{
	return save_full(box, data, 0, 0, INDEX_DATE_UNKNOWN, false);
}

static void sync_ok(struct mailbox *box, struct mailbox_changes *changes, unsigned int flags)
{
	struct mailbox_error err;

	if (!mailbox_sync(box, flags, changes, &err))
		fail_msg("sync: %s", err.text);
}

static size_t count_dir(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *d;
	size_t n = 0;

	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

static void path_in(char *out, size_t size, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void path_in(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, size, "%s/", root);

	va_start(ap, fmt);
	vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Returns the only file name in dir (fails if not exactly one). */
static void only_file(const char *dir, char *name_r, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		str_copy(name_r, size, e->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 1);
}

static void test_save_and_sync(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", MAILBOX_OPEN_CLAIM_RECENT);
	struct mailbox_changes ch;
	struct mailbox_error err;
	const struct mail_record *rec;
	int64_t idate, sdate;
	char path[256];

	(void)state;
	assert_int_equal(mailbox_count(box), 0);
	assert_int_equal(mailbox_next_uid(box), 1);
	assert_true(mailbox_uidvalidity(box) > 0);
	assert_int_equal(save_msg(box, "Subject: one\n\nbody\n"), 1);
	assert_int_equal(
		save_full(box, "Subject: two\r\n\r\nbody\r\n", MAIL_SEEN, 0, 1000000000, false), 2);
	assert_int_equal(
		save_full(box, "Subject: three\r\n\r\nbo\rdy\r\n", 0, 0, INDEX_DATE_UNKNOWN, true),
		3);
	/* Nothing is visible before the sync. */
	assert_int_equal(mailbox_count(box), 0);
	sync_ok(box, &ch, 0);
	assert_int_equal(ch.old_count, 0);
	assert_int_equal(ch.new_count, 3);
	assert_int_equal(ch.recent_count, 3);
	assert_int_equal(ch.expunged_count, 0);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_count(box), 3);
	rec = mailbox_record(box, 1);
	assert_int_equal(rec->uid, 1);
	assert_int_equal(rec->psize, 19);
	assert_int_equal(rec->vsize, 22); /* 3 LFs become CRLFs */
	assert_true((rec->flags & MAIL_RECENT) != 0);
	rec = mailbox_record(box, 2);
	assert_int_equal(rec->flags & MAIL_FLAGS_MASK, MAIL_SEEN);
	assert_int_equal(rec->psize, 22);
	assert_int_equal(rec->vsize, 22);
	assert_true(mailbox_mail_get_dates(box, 2, &idate, &sdate, &err));
	assert_int_equal(idate, 1000000000);
	rec = mailbox_record(box, 3);
	/* CRLF stored as LF, a lone CR kept. */
	assert_int_equal(rec->psize, strlen("Subject: three\n\nbo\rdy\n"));
	assert_int_equal(rec->vsize, rec->psize + 3);
	assert_null(mailbox_record(box, 4));
	assert_null(mailbox_record(box, 0));
	assert_int_equal(mailbox_seq_by_uid(box, 2), 2);
	assert_int_equal(mailbox_seq_by_uid(box, 9), 0);
	assert_int_equal(mailbox_seq_from_uid(box, 2), 2);
	assert_int_equal(mailbox_seq_from_uid(box, 4), 4);
	/* The session moved new/ to cur/; all three are in cur/ now. */
	path_in(path, sizeof(path), "new");
	assert_int_equal(count_dir(path), 0);
	path_in(path, sizeof(path), "cur");
	assert_int_equal(count_dir(path), 3);
	{
		int fd;
		char buf[64];
		ssize_t n;

		assert_true(mailbox_mail_open(box, 1, &fd, &err));
		n = read(fd, buf, sizeof(buf));
		close(fd);
		assert_int_equal(n, 19);
		assert_memory_equal(buf, "Subject: one\n\nbody\n", 19);
	}
	/* A second sync with no changes reports none. */
	sync_ok(box, &ch, 0);
	assert_int_equal(ch.new_count, 3);
	assert_int_equal(ch.old_count, 3);
	assert_int_equal(ch.changed_count + ch.expunged_count, 0);
	mailbox_changes_free(&ch);
	mailbox_close(&box);
	assert_null(box);
	mail_storage_destroy(&storage);
	assert_null(storage);
}

static void test_two_sessions(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", MAILBOX_OPEN_CLAIM_RECENT);
	struct mailbox *b = box_open(storage, "INBOX", MAILBOX_OPEN_CLAIM_RECENT);
	struct mailbox_update_result res[2];
	struct mailbox_changes ch;
	struct mailbox_error err;
	uint32_t uids[2] = {1, 2};
	uint64_t modseq_before;
	uint32_t *exp;
	size_t nexp;
	bool complete;

	(void)state;
	save_msg(a, "Subject: 1\n\n1\n");
	save_msg(a, "Subject: 2\n\n2\n");
	save_msg(a, "Subject: 3\n\n3\n");
	sync_ok(a, &ch, 0);
	assert_int_equal(ch.recent_count, 3);
	mailbox_changes_free(&ch);
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.new_count, 3);
	/* \Recent went to the first session only. */
	assert_int_equal(ch.recent_count, 0);
	mailbox_changes_free(&ch);
	modseq_before = mailbox_highest_modseq(b);

	assert_true(mailbox_update_flags(a, uids, 2, MAILBOX_FLAGS_ADD, MAIL_SEEN | MAIL_DELETED, 0,
					 0, res, &err));
	assert_int_equal(res[0].status, MAILBOX_UPDATE_CHANGED);
	assert_int_equal(res[1].status, MAILBOX_UPDATE_CHANGED);
	assert_true(res[0].modseq > modseq_before);
	/* a's own view shows its change at once. */
	assert_int_equal(mailbox_record(a, 1)->flags & MAIL_FLAGS_MASK, MAIL_SEEN | MAIL_DELETED);
	assert_true((mailbox_record(a, 1)->flags & MAIL_RECENT) != 0);
	/* b learns of it at its next sync. */
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.changed_count, 2);
	assert_int_equal(ch.changed_seqs[0], 1);
	assert_int_equal(ch.changed_seqs[1], 2);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(b, 2)->flags, MAIL_SEEN | MAIL_DELETED);
	assert_int_equal(mailbox_record(b, 2)->modseq, res[1].modseq);
	assert_int_equal(mailbox_highest_modseq(b), res[1].modseq);

	/* UNCHANGEDSINCE: uid 1 was modified after modseq_before. */
	assert_true(mailbox_update_flags(b, uids, 1, MAILBOX_FLAGS_REMOVE, MAIL_SEEN, 0,
					 modseq_before, res, &err));
	assert_int_equal(res[0].status, MAILBOX_UPDATE_MODIFIED);
	assert_true(
		mailbox_update_flags(b, uids, 1, MAILBOX_FLAGS_ADD, MAIL_SEEN, 0, 0, res, &err));
	assert_int_equal(res[0].status, MAILBOX_UPDATE_UNCHANGED);

	/* Expunge in b; a sees the EXPUNGE, with old sequence numbers. */
	assert_true(mailbox_expunge(b, uids, 2, &err));
	assert_int_equal(mailbox_count(b), 3);
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.expunged_count, 2);
	mailbox_changes_free(&ch);
	sync_ok(a, &ch, 0);
	assert_int_equal(ch.expunged_count, 2);
	assert_int_equal(ch.expunged_uids[0], 1);
	assert_int_equal(ch.expunged_uids[1], 2);
	assert_int_equal(ch.expunged_seqs[0], 1);
	assert_int_equal(ch.expunged_seqs[1], 2);
	assert_int_equal(ch.new_count, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_count(a), 1);
	assert_int_equal(mailbox_record(a, 1)->uid, 3);
	assert_true(mailbox_expunged_since(a, modseq_before, &exp, &nexp, &complete, &err));
	assert_int_equal(nexp, 2);
	assert_int_equal(exp[0], 1);
	assert_true(complete);
	free(exp);
	/* Updating an expunged UID says so. */
	assert_true(
		mailbox_update_flags(a, uids, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, 0, 0, res, &err));
	assert_int_equal(res[0].status, MAILBOX_UPDATE_EXPUNGED);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_storage_destroy(&storage);
}

static void test_foreign_changes(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", 0);
	struct mailbox_update_result res;
	struct mailbox_changes ch;
	struct mailbox_error err;
	char cur[256], name[256], from[512], to[512];
	uint32_t uid = 1;
	FILE *f;

	(void)state;
	save_msg(box, "Subject: x\n\nx\n");
	sync_ok(box, NULL, 0);
	path_in(cur, sizeof(cur), "cur");
	only_file(cur, name, sizeof(name));
	/* A foreign program (mutt) marks it flagged. */
	snprintf(from, sizeof(from), "%s/%s", cur, name);
	snprintf(to, sizeof(to), "%s/%.*sF", cur, (int)(strchr(name, ':') - name + 3), name);
	assert_int_equal(rename(from, to), 0);
	sync_ok(box, &ch, MAILBOX_SYNC_FORCE_SCAN);
	assert_int_equal(ch.changed_count, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(box, 1)->flags, MAIL_FLAGGED);
	/* It renames again behind our back; our STORE still finds it. */
	snprintf(from, sizeof(from), "%s/%.*sFS", cur, (int)(strchr(name, ':') - name + 3), name);
	assert_int_equal(rename(to, from), 0);
	assert_true(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD, MAIL_ANSWERED, 0, 0, &res,
					 &err));
	assert_int_equal(res.status, MAILBOX_UPDATE_CHANGED);
	assert_int_equal(res.flags, MAIL_FLAGGED | MAIL_SEEN | MAIL_ANSWERED);
	only_file(cur, name, sizeof(name));
	assert_non_null(strstr(name, ":2,FRS"));
	/* And reading the message after yet another foreign rename works. */
	snprintf(from, sizeof(from), "%s/%s", cur, name);
	snprintf(to, sizeof(to), "%s/%.*s", cur, (int)(strchr(name, ':') - name + 3), name);
	assert_int_equal(rename(from, to), 0);
	{
		int fd;

		assert_true(mailbox_mail_open(box, 1, &fd, &err));
		close(fd);
	}
	/* A plain qmail-style delivery without sizes, and a deletion. */
	path_in(name, sizeof(name), "new/1700000000.999_1.otherhost");
	f = fopen(name, "w");
	assert_non_null(f);
	fputs("Subject: foreign\n\nhello\nworld\n", f);
	fclose(f);
	sync_ok(box, &ch, 0);
	assert_int_equal(ch.new_count, 2);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(box, 2)->uid, 2);
	assert_int_equal(mailbox_record(box, 2)->psize, 30);
	assert_int_equal(mailbox_record(box, 2)->vsize, 34);
	assert_int_equal(unlink(to), 0);
	sync_ok(box, &ch, MAILBOX_SYNC_FORCE_SCAN);
	assert_int_equal(ch.expunged_count, 1);
	assert_int_equal(ch.expunged_uids[0], 1);
	mailbox_changes_free(&ch);
	/* Two files with one base (a restored backup, say) stay two
	   messages: the second gets a new base and its own UID. */
	path_in(name, sizeof(name), "cur/1700000100.dup.h:2,S");
	f = fopen(name, "w");
	assert_non_null(f);
	fputs("Subject: dup1\n\n", f);
	fclose(f);
	path_in(name, sizeof(name), "cur/1700000100.dup.h:2,F");
	f = fopen(name, "w");
	assert_non_null(f);
	fputs("Subject: dup2\n\n", f);
	fclose(f);
	sync_ok(box, &ch, MAILBOX_SYNC_FORCE_SCAN);
	assert_int_equal(ch.new_count, 3);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(box, 2)->uid, 3);
	assert_int_equal(mailbox_record(box, 3)->uid, 4);
	assert_int_equal(count_dir(cur), 3);
	sync_ok(box, &ch, MAILBOX_SYNC_FORCE_SCAN);
	assert_int_equal(ch.new_count, 3);
	assert_int_equal(ch.changed_count + ch.expunged_count, 0);
	mailbox_changes_free(&ch);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

/* maildir_file_sizes: a CR ending one 64 KiB block and its LF starting the
   next is one CRLF; the size hint ends reading early only when it is right. */
static void test_file_sizes(void **state)
{
	static char data[65536 + 8];
	uint64_t hints[] = {0, 65539, 10, 70000};
	uint64_t psize, vsize;
	char path[256];
	int fd;

	(void)state;
	memset(data, 'a', 65535);
	memcpy(data + 65535, "\r\nx\n", 4);
	snprintf(path, sizeof(path), "%s/big", base);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, 65539), 65539);
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_true(maildir_file_sizes(fd, hints[i], &psize, &vsize));
		assert_int_equal(psize, 65539);
		assert_int_equal(vsize, 65540);
	}
	/* Short files, hint right, too small (it grew) or too large. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "a\nb\r\n", 5, 0), 5);
	for (uint64_t hint = 0; hint < 8; hint++) {
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_true(maildir_file_sizes(fd, hint, &psize, &vsize));
		assert_int_equal(psize, 5);
		assert_int_equal(vsize, 6);
	}
	close(fd);
}

/* A Maildir another MDA filled (names without S= and W=), opened for the
   first time: every file is read for its sizes, more of them than the
   read-ahead window and in an inode order that is the reverse of the UID
   order, and the sizes learnt are kept in dovecot-uidlist for an index
   rebuilt later. Few descriptors left only shorten the read-ahead. */
static void test_sizes_first_open(void **state)
{
	enum { N = 150 };
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", 0);
	char path[256], index[256];
	struct rlimit rl, low;
	FILE *f;

	(void)state;
	mailbox_close(&box);
	/* Last name first: inodes usually come out in the reverse order. */
	for (int i = N - 1; i >= 0; i--) {
		path_in(path, sizeof(path), "cur/%d.M%dP1.mda:2,%s", 1700000000 + i, i,
			i % 3 == 0 ? "S" : "");
		f = fopen(path, "w");
		assert_non_null(f);
		for (int l = 0; l < i; l++)
			fputs(i % 5 == 0 ? "line\r\n" : "line\n", f);
		fclose(f);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = 32;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(mailbox_count(box), N);
	for (int i = 0; i < N; i++) {
		const struct mail_record *rec = mailbox_record(box, (uint32_t)i + 1);

		assert_int_equal(rec->uid, i + 1);
		assert_int_equal(rec->psize, (uint64_t)i * (i % 5 == 0 ? 6 : 5));
		assert_int_equal(rec->vsize, (uint64_t)i * 6);
		assert_int_equal(rec->flags, i % 3 == 0 ? MAIL_SEEN : 0);
	}
	mailbox_close(&box);

	/* The index lost, every file emptied: the uidlist still knows. */
	path_in(index, sizeof(index), "roost.index");
	assert_int_equal(unlink(index), 0);
	for (int i = 0; i < N; i++) {
		path_in(path, sizeof(path), "cur/%d.M%dP1.mda:2,%s", 1700000000 + i, i,
			i % 3 == 0 ? "S" : "");
		assert_int_equal(truncate(path, 0), 0);
	}
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), N);
	assert_int_equal(mailbox_record(box, N)->psize, (uint64_t)(N - 1) * 5);
	assert_int_equal(mailbox_record(box, N)->vsize, (uint64_t)(N - 1) * 6);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

static void test_settled_mtime(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", 0);
	struct mailbox_changes ch;
	char cur[256], name[256], from[512], to[600];

	(void)state;
	save_msg(box, "Subject: x\n\nx\n");
	sync_ok(box, NULL, 0);
	usleep(200000);
	sync_ok(box, NULL, 0); /* now the index records a settled cur/ */
	path_in(cur, sizeof(cur), "cur");
	only_file(cur, name, sizeof(name));
	snprintf(from, sizeof(from), "%s/%s", cur, name);
	snprintf(to, sizeof(to), "%sS", from);
	assert_int_equal(rename(from, to), 0);
	/* No forced scan: the changed mtime alone must trigger one. */
	sync_ok(box, &ch, 0);
	assert_int_equal(ch.changed_count, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(box, 1)->flags, MAIL_SEEN);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

/* With very_dirty_syncs, roost's own changes need no cur/ re-read, yet
   other sessions still see them, and a foreign change after the settle
   time is still noticed. */
static void test_very_dirty(void **state)
{
	struct mail_storage *storage;
	struct mailbox *a, *b;
	struct mailbox_changes ch;
	struct mailbox_error err;
	uint32_t uids[2] = {1, 2};
	char cur[256], name[256], from[512], to[600];

	very_dirty = true;
	test_two_sessions(state);
	snprintf(cur, sizeof(cur), "rm -rf %s", root);
	assert_int_equal(system(cur), 0);
	storage = storage_new();
	very_dirty = false;
	a = box_open(storage, "INBOX", 0);
	b = box_open(storage, "INBOX", 0);
	save_msg(a, "Subject: 4\n\n4\n");
	sync_ok(a, NULL, 0);
	usleep(200000);
	sync_ok(a, NULL, 0);
	sync_ok(b, NULL, 0);
	assert_true(mailbox_update_flags(a, &uids[0], 1, MAILBOX_FLAGS_ADD, MAIL_SEEN, 0, 0, NULL,
					 &err));
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.changed_count, 1);
	mailbox_changes_free(&ch);
	usleep(200000);
	path_in(cur, sizeof(cur), "cur");
	only_file(cur, name, sizeof(name));
	snprintf(from, sizeof(from), "%s/%s", cur, name);
	snprintf(to, sizeof(to), "%sF", from);
	assert_int_equal(rename(from, to), 0);
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.changed_count, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(b, 1)->flags, MAIL_SEEN | MAIL_FLAGGED);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_storage_destroy(&storage);
}

/* roost's own flag change is trusted without reading cur/ again; a foreign
   rename hidden behind the same cur/ mtime (as if made in the same clock
   tick) is found once the trust window has passed, as IDLE is told by
   mailbox_sync_recheck_msecs. */
static void test_own_change_trusted(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0), *b = box_open(storage, "INBOX", 0);
	struct mailbox_changes ch;
	struct mailbox_error err;
	struct timespec times[2];
	struct stat st;
	uint32_t uid = 1;
	unsigned int wait;
	size_t seen;
	char cur[256], name[256], from[512], to[600];

	(void)state;
	save_msg(a, "Subject: 5\n\n5\n");
	sync_ok(a, NULL, 0);
	sync_ok(b, NULL, 0);
	assert_true(
		mailbox_update_flags(a, &uid, 1, MAILBOX_FLAGS_ADD, MAIL_SEEN, 0, 0, NULL, &err));
	sync_ok(b, &ch, 0);
	assert_int_equal(ch.changed_count, 1);
	mailbox_changes_free(&ch);
	assert_true(mailbox_sync_recheck_msecs(b) <= 1001);

	path_in(cur, sizeof(cur), "cur");
	assert_int_equal(stat(cur, &st), 0);
	only_file(cur, name, sizeof(name));
	snprintf(from, sizeof(from), "%s/%s", cur, name);
	snprintf(to, sizeof(to), "%sF", from);
	assert_int_equal(rename(from, to), 0);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, cur, times, 0), 0);
	/* Within the window the stamp is trusted and the rename not seen
	   yet (unless this machine took most of the window to get here). */
	wait = mailbox_sync_recheck_msecs(b);
	sync_ok(b, &ch, 0);
	seen = ch.changed_count;
	if (wait > 100)
		assert_int_equal(seen, 0);
	mailbox_changes_free(&ch);

	usleep((mailbox_sync_recheck_msecs(b) + 20) * 1000);
	sync_ok(b, &ch, 0);
	assert_int_equal(seen + ch.changed_count, 1);
	mailbox_changes_free(&ch);
	assert_int_equal(mailbox_record(b, 1)->flags, MAIL_SEEN | MAIL_FLAGGED);
	assert_int_equal(mailbox_sync_recheck_msecs(b), 0);
	mailbox_close(&a);
	mailbox_close(&b);
	mail_storage_destroy(&storage);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Expunged messages' lines stay in dovecot-uidlist until a quarter of the
   records are gone; sessions never see them meanwhile. */
static void test_uidlist_compacts(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0), *b;
	struct mailbox_error err;
	uint32_t uid;
	char uidlist[256];

	(void)state;
	for (int i = 0; i < 8; i++)
		save_msg(a, "Subject: c\n\nc\n");
	sync_ok(a, NULL, 0);
	path_in(uidlist, sizeof(uidlist), "dovecot-uidlist");
	assert_int_equal(count_lines(uidlist), 1 + 8);
	uid = 1;
	assert_true(mailbox_expunge(a, &uid, 1, &err));
	assert_int_equal(count_lines(uidlist), 1 + 8);
	b = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(b), 7);
	assert_int_equal(mailbox_record(b, 1)->uid, 2);
	mailbox_close(&b);
	uid = 2;
	assert_true(mailbox_expunge(a, &uid, 1, &err));
	assert_int_equal(count_lines(uidlist), 1 + 6);
	sync_ok(a, NULL, 0);
	assert_int_equal(mailbox_count(a), 6);
	assert_int_equal(mailbox_record(a, 1)->uid, 3);
	mailbox_close(&a);
	mail_storage_destroy(&storage);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0xff;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_index_rebuild(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", 0);
	struct index_view view;
	struct index_file_stat st;
	struct mailbox_error err;
	uint32_t uidvalidity, uid = 2;
	char index[256], uidlist[256];
	struct stat sst;

	(void)state;
	for (int i = 0; i < 5; i++)
		save_msg(box, "Subject: r\n\nr\n");
	sync_ok(box, NULL, 0);
	assert_true(mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, 0, 0, NULL,
					 &err));
	uidvalidity = mailbox_uidvalidity(box);
	mailbox_close(&box);
	path_in(index, sizeof(index), "roost.index");
	path_in(uidlist, sizeof(uidlist), "dovecot-uidlist");

	/* Corrupt in the records: rebuilt, same UIDs and flags. */
	assert_int_equal(stat(index, &sst), 0);
	flip_byte(index, sst.st_size - 10);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 5);
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	assert_int_equal(mailbox_record(box, 2)->uid, 2);
	assert_int_equal(mailbox_record(box, 2)->flags, MAIL_FLAGGED);
	mailbox_close(&box);
	index_view_init(&view);
	assert_int_equal(index_file_read(&view, index, &st, &err), 1);
	assert_int_equal(view.count, 5);
	index_view_deinit(&view);

	/* Truncated to nothing, then missing: the same. */
	assert_int_equal(truncate(index, 0), 0);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 5);
	mailbox_close(&box);
	assert_int_equal(unlink(index), 0);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 5);
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	mailbox_close(&box);

	/* dovecot-uidlist lost: rebuilt from the index, UIDs kept. */
	assert_int_equal(unlink(uidlist), 0);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 5);
	assert_int_equal(mailbox_uidvalidity(box), uidvalidity);
	assert_int_equal(mailbox_record(box, 5)->uid, 5);
	assert_int_equal(mailbox_next_uid(box), 6);
	mailbox_close(&box);
	assert_int_equal(stat(uidlist, &sst), 0);

	/* Both lost: a new UIDVALIDITY, messages still all there. */
	assert_int_equal(unlink(uidlist), 0);
	assert_int_equal(unlink(index), 0);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 5);
	assert_true(mailbox_uidvalidity(box) != uidvalidity);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

static void test_uidvalidity_change_seen(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0);
	struct mailbox_changes ch;
	char index[256], uidlist[256];

	(void)state;
	save_msg(a, "Subject: v\n\nv\n");
	sync_ok(a, NULL, 0);
	path_in(index, sizeof(index), "roost.index");
	path_in(uidlist, sizeof(uidlist), "dovecot-uidlist");
	assert_int_equal(unlink(uidlist), 0);
	assert_int_equal(unlink(index), 0);
	sleep(1); /* a new UIDVALIDITY is time based */
	sync_ok(a, &ch, 0);
	assert_true(ch.uidvalidity_changed);
	mailbox_changes_free(&ch);
	mailbox_close(&a);
	mail_storage_destroy(&storage);
}

static int crash_step;

static void crash_hook(int step)
{
	if (step == crash_step)
		_exit(42);
}

static void test_save_crash_each_step(void **state)
{
	(void)state;
	for (int step = 1; step <= 8; step++) {
		struct mail_storage *storage;
		struct mailbox *box;
		struct mailbox_error err;
		char cmd[256], tmp[256];
		pid_t pid;
		int status;
		uint32_t expect, uid;

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		assert_int_equal(system(cmd), 0);
		storage = storage_new();
		box = box_open(storage, "INBOX", 0);
		save_msg(box, "Subject: before\n\nb\n");
		mailbox_close(&box);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* A delivery agent that dies at this step. */
			crash_step = step;
			maildir_save_test_hook = crash_hook;
			box = box_open(storage, "INBOX", MAILBOX_OPEN_SAVE_ONLY);
			save_msg(box, "Subject: crash\n\nc\n");
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 42);
		/* Before the rename (steps 1-4) the message is not
		   delivered and its bytes stay in tmp/; from step 5 on
		   it is, exactly once. */
		expect = step >= 5 ? 2 : 1;
		box = box_open(storage, "INBOX", 0);
		assert_int_equal(mailbox_count(box), expect);
		assert_int_equal(mailbox_record(box, 1)->uid, 1);
		if (expect == 2)
			assert_int_equal(mailbox_record(box, 2)->uid, 2);
		/* The next delivery gets a fresh UID, no duplicates. */
		uid = save_msg(box, "Subject: after\n\na\n");
		assert_int_equal(uid, expect + 1);
		sync_ok(box, NULL, MAILBOX_SYNC_FORCE_SCAN);
		assert_int_equal(mailbox_count(box), expect + 1);
		for (uint32_t s = 2; s <= mailbox_count(box); s++)
			assert_true(mailbox_record(box, s)->uid > mailbox_record(box, s - 1)->uid);
		/* A tmp/ leftover is cleaned up (age limit in the future). */
		path_in(tmp, sizeof(tmp), "tmp");
		assert_int_equal(count_dir(tmp), step <= 4 ? 1 : 0);
		assert_int_equal(mailbox_cleanup_tmp(box, -10, &err), step <= 4 ? 1 : 0);
		assert_int_equal(count_dir(tmp), 0);
		mailbox_close(&box);
		mail_storage_destroy(&storage);
	}
}

static void test_session_lock(void **state)
{
	struct mail_storage *storage = storage_with("", NULL, NULL, 1);
	struct mailbox *box, *other;
	struct mailbox_error err;
	int p[2];
	pid_t pid;
	char c;
	int status;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		box = box_open(storage, "INBOX", MAILBOX_OPEN_SESSION_LOCK);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_false(mailbox_open(storage, "INBOX", MAILBOX_OPEN_SESSION_LOCK, &box, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_LOCK_TIMEOUT);
	assert_non_null(strstr(err.text, "Timeout while waiting for lock"));
	assert_null(box);
	/* Sessions without the session lock, and deliveries, go on. */
	other = box_open(storage, "INBOX", 0);
	save_msg(other, "Subject: during\n\nd\n");
	mailbox_close(&other);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	box = box_open(storage, "INBOX", MAILBOX_OPEN_SESSION_LOCK);
	assert_int_equal(mailbox_count(box), 1);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

/* Lists every entry under dir (recursively) into out, one per line. */
static void tree(const char *dir, struct buf *out)
{
	char cmd[256];
	FILE *f;
	char line[512];

	snprintf(cmd, sizeof(cmd), "find %s | sort", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		assert_true(buf_append_str(out, line));
	pclose(f);
}

static void test_names_stay_inside_root(void **state)
{
	static const char *const evil[] = {
		"../x",
		"../../x",
		"..",
		"a/../../x",
		"/abs/x",
		"/tmp",
		"~",
		"~root/x",
		"./x",
		"x/./y",
		".x",
		"x/",
		"x//y",
		"a\nb",
		"a\x01",
		"..\xc0\xaf",
		"Lists/../../etc",
		"sub/..",
		"a.b",
		"",
	};
	struct mail_storage *storage = storage_new();
	struct buf before = BUF_INIT(1 << 20), after = BUF_INIT(1 << 20);
	struct mailbox_error err;
	struct mailbox *box;
	struct mailbox_status status;
	bool exists;

	(void)state;
	tree(base, &before);
	for (size_t i = 0; i < N_ELEMENTS(evil); i++) {
		assert_false(mailbox_create(storage, evil[i], &err));
		assert_int_equal(err.code, MAILBOX_ERROR_INVALID_NAME);
		assert_false(mailbox_open(storage, evil[i], MAILBOX_OPEN_AUTOCREATE, &box, &err));
		assert_int_equal(err.code, MAILBOX_ERROR_INVALID_NAME);
		assert_false(mailbox_delete(storage, evil[i], &err));
		assert_false(mailbox_rename(storage, "INBOX", evil[i], &err));
		assert_false(mailbox_rename(storage, evil[i], "ok", &err));
		assert_false(mailbox_subscribe(storage, evil[i], true, &err));
		assert_false(mailbox_exists(storage, evil[i], &exists, &err));
		assert_false(mailbox_status_peek(storage, evil[i], &status, &err));
	}
	tree(base, &after);
	/* Not one file or directory appeared or vanished anywhere. */
	assert_string_equal(buf_cstr(&before), buf_cstr(&after));
	buf_free(&before);
	buf_free(&after);
	mail_storage_destroy(&storage);
}

static const struct mailbox_info *find_info(const struct mailbox_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->infos[i].name, name) == 0)
			return &list->infos[i];
	}
	return NULL;
}

static void test_list_create_delete_rename(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox_list list;
	struct mailbox_error err;
	struct mailbox *box;
	const struct mailbox_info *info;
	char path[256];
	struct stat st;
	char **subs;

	(void)state;
	assert_true(mailbox_create(storage, "Lists/roost", &err));
	assert_true(mailbox_create(storage, "Sent", &err));
	assert_true(mailbox_create(storage, "A/B/C", &err));
	assert_false(mailbox_create(storage, "Sent", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_EXISTS);
	assert_false(mailbox_create(storage, "inbox", &err));
	path_in(path, sizeof(path), ".Lists.roost/maildirfolder");
	assert_int_equal(stat(path, &st), 0);
	path_in(path, sizeof(path), ".Lists.roost/tmp");
	assert_int_equal(stat(path, &st), 0);

	assert_true(mailbox_list_get(storage, &list, &err));
	assert_string_equal(list.infos[0].name, "INBOX");
	info = find_info(&list, "Lists");
	assert_non_null(info);
	assert_int_equal(info->flags, MAILBOX_INFO_NOSELECT | MAILBOX_INFO_HAS_CHILDREN);
	info = find_info(&list, "Lists/roost");
	assert_int_equal(info->flags, MAILBOX_INFO_HAS_NO_CHILDREN);
	assert_non_null(find_info(&list, "A/B"));
	assert_int_equal(find_info(&list, "INBOX")->flags, MAILBOX_INFO_HAS_NO_CHILDREN);
	mailbox_list_free(&list);

	/* Non-ASCII names are stored in modified UTF-7, as Dovecot does. */
	assert_true(mailbox_create(storage, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", &err));
	path_in(path, sizeof(path), ".&ZeVnLIqe-/cur");
	assert_int_equal(stat(path, &st), 0);
	assert_true(mailbox_list_get(storage, &list, &err));
	assert_non_null(find_info(&list, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));
	mailbox_list_free(&list);
	assert_true(mailbox_delete(storage, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", &err));

	/* Rename with children. */
	box = box_open(storage, "Lists/roost", 0);
	save_msg(box, "Subject: l\n\nl\n");
	mailbox_close(&box);
	assert_true(mailbox_create(storage, "Lists", &err));
	assert_false(mailbox_rename(storage, "Lists", "Lists/sub", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_ALLOWED);
	assert_false(mailbox_rename(storage, "Lists", "Sent", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_EXISTS);
	assert_false(mailbox_rename(storage, "Nope", "Other", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_FOUND);
	assert_true(mailbox_rename(storage, "Lists", "Groups", &err));
	box = box_open(storage, "Groups/roost", 0);
	assert_int_equal(mailbox_count(box), 1);
	mailbox_close(&box);
	assert_false(mailbox_open(storage, "Lists/roost", 0, &box, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_FOUND);

	/* Delete keeps children; the parent shows as \Noselect. */
	assert_true(mailbox_delete(storage, "Groups", &err));
	assert_false(mailbox_delete(storage, "Groups", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_FOUND);
	assert_false(mailbox_delete(storage, "INBOX", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_ALLOWED);
	assert_true(mailbox_list_get(storage, &list, &err));
	assert_int_equal(find_info(&list, "Groups")->flags,
			 MAILBOX_INFO_NOSELECT | MAILBOX_INFO_HAS_CHILDREN);
	assert_non_null(find_info(&list, "Groups/roost"));
	mailbox_list_free(&list);

	/* INBOX rename moves the messages, INBOX stays. */
	box = box_open(storage, "INBOX", 0);
	save_msg(box, "Subject: i1\n\ni\n");
	save_msg(box, "Subject: i2\n\ni\n");
	mailbox_close(&box);
	assert_true(mailbox_rename(storage, "INBOX", "Old", &err));
	box = box_open(storage, "Old", 0);
	assert_int_equal(mailbox_count(box), 2);
	mailbox_close(&box);
	box = box_open(storage, "INBOX", 0);
	assert_int_equal(mailbox_count(box), 0);
	mailbox_close(&box);

	/* Subscriptions in Dovecot's file format. */
	assert_true(mailbox_subscribe(storage, "Groups/roost", true, &err));
	assert_true(mailbox_subscribe(storage, "INBOX", true, &err));
	assert_true(mailbox_subscribe(storage, "Gone", true, &err));
	assert_true(mailbox_subscribe(storage, "Gone", true, &err));
	assert_true(mailbox_subscriptions_get(storage, &subs, &err));
	assert_string_equal(subs[0], "Groups/roost");
	assert_string_equal(subs[1], "INBOX");
	assert_string_equal(subs[2], "Gone");
	assert_null(subs[3]);
	mailbox_subscriptions_free(&subs);
	{
		FILE *f;
		char buf[256];
		size_t n;

		path_in(path, sizeof(path), "subscriptions");
		f = fopen(path, "r");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		assert_string_equal(buf, "V\t2\n\nGroups\troost\nINBOX\nGone\n");
	}
	assert_true(mailbox_subscribe(storage, "Gone", false, &err));
	assert_true(mailbox_list_get(storage, &list, &err));
	assert_true((find_info(&list, "Groups/roost")->flags & MAILBOX_INFO_SUBSCRIBED) != 0);
	assert_true((find_info(&list, "INBOX")->flags & MAILBOX_INFO_SUBSCRIBED) != 0);
	assert_null(find_info(&list, "Gone"));
	mailbox_list_free(&list);
	mail_storage_destroy(&storage);
}

static void test_subscriptions_parse(void **state)
{
	static const char v2[] =
		"V\t2\n\nLists\troost\nINBOX\n&ZeVnLIqe-\nR&-D\n../x\nLists\troost\n";
	static const char v1[] = "Sent\nLists/roost\n";
	char **names;

	(void)state;
	names = mailbox_subscriptions_parse(v2, strlen(v2), MAIL_LAYOUT_MAILDIRPP);
	assert_string_equal(names[0], "Lists/roost");
	assert_string_equal(names[1], "INBOX");
	assert_string_equal(names[2], "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	assert_string_equal(names[3], "R&D");
	assert_null(names[4]);
	mailbox_subscriptions_free(&names);
	assert_null(names);
	names = mailbox_subscriptions_parse(v1, strlen(v1), MAIL_LAYOUT_MAILDIRPP);
	assert_string_equal(names[0], "Sent");
	assert_string_equal(names[1], "Lists/roost");
	mailbox_subscriptions_free(&names);
}

static void test_keywords_and_copy(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *src = box_open(storage, "INBOX", 0);
	struct mailbox *dest;
	struct mailbox_error err;
	unsigned int junk, work;
	uint32_t uids[3] = {1, 2, 99}, dest_uids[3];
	int64_t idate, sdate;
	char path[256], name[256];

	(void)state;
	assert_true(mailbox_create(storage, "Archive", &err));
	dest = box_open(storage, "Archive", 0);
	/* Give Archive a different first keyword so letters differ. */
	assert_true(mailbox_keyword_add(dest, "Other", &work, &err));
	assert_int_equal(work, 0);
	assert_true(mailbox_keyword_add(src, "$Junk", &junk, &err));
	assert_true(mailbox_keyword_add(src, "Work", &work, &err));
	assert_int_equal(junk, 0);
	assert_int_equal(work, 1);
	assert_int_equal(mailbox_keyword_lookup(src, "$junk"), 0);
	assert_string_equal(mailbox_keyword_name(src, 1), "Work");
	assert_false(mailbox_keyword_add(src, "bad name", &work, &err));
	save_full(src, "Subject: k\n\nk\n", MAIL_FLAGGED, 1U << 1, 1234567890, false);
	save_msg(src, "Subject: plain\n\np\n");
	sync_ok(src, NULL, 0);
	assert_int_equal(mailbox_record(src, 1)->keywords, 1U << 1);
	path_in(path, sizeof(path), "cur");
	assert_int_equal(count_dir(path), 2);
	assert_true(mailbox_copy(src, uids, 3, dest, dest_uids, &err));
	assert_int_equal(dest_uids[0], 1);
	assert_int_equal(dest_uids[1], 2);
	assert_int_equal(dest_uids[2], 0);
	sync_ok(dest, NULL, 0);
	assert_int_equal(mailbox_count(dest), 2);
	assert_int_equal(mailbox_record(dest, 1)->flags, MAIL_FLAGGED);
	/* "Work" is keyword 1 in Archive too, by name. */
	assert_string_equal(mailbox_keyword_name(dest, 1), "Work");
	assert_int_equal(mailbox_record(dest, 1)->keywords, 1U << 1);
	assert_true(mailbox_mail_get_dates(dest, 1, &idate, &sdate, &err));
	assert_int_equal(idate, 1234567890);
	assert_int_equal(mailbox_record(dest, 1)->vsize, mailbox_record(src, 1)->vsize);
	/* It is a hard link: same inode. */
	{
		int a, b;
		struct stat sa, sb;

		assert_true(mailbox_mail_open(src, 1, &a, &err));
		assert_true(mailbox_mail_open(dest, 1, &b, &err));
		assert_int_equal(fstat(a, &sa), 0);
		assert_int_equal(fstat(b, &sb), 0);
		assert_int_equal(sa.st_ino, sb.st_ino);
		close(a);
		close(b);
	}
	path_in(path, sizeof(path), ".Archive/dovecot-keywords");
	{
		FILE *f = fopen(path, "r");
		size_t n;

		assert_non_null(f);
		n = fread(name, 1, sizeof(name) - 1, f);
		fclose(f);
		name[n] = '\0';
		assert_string_equal(name, "0 Other\n1 Work\n");
	}
	/* 26 keywords at most. */
	for (int i = 0; i < 30; i++) {
		unsigned int idx;

		snprintf(name, sizeof(name), "k%d", i);
		if (!mailbox_keyword_add(dest, name, &idx, &err)) {
			assert_int_equal(err.code, MAILBOX_ERROR_LIMIT);
			assert_int_equal(i, MAIL_KEYWORDS_MAX - 2);
			break;
		}
	}
	mailbox_close(&src);
	mailbox_close(&dest);
	mail_storage_destroy(&storage);
}

static void test_quota(void **state)
{
	static const char *const rules[] = {"*:messages=3:bytes=100", "Spam:ignore", NULL};
	struct mail_storage *storage = storage_with("", rules, NULL, 5);
	struct mailbox *box = box_open(storage, "INBOX", 0), *spam;
	struct mailbox_save_params params = {0};
	struct mailbox_save *save;
	struct mailbox_error err;
	struct quota_usage usage;
	uint32_t uid;

	(void)state;
	params.internal_date = INDEX_DATE_UNKNOWN;
	save_msg(box, "Subject: 1\n\n1\n");
	save_msg(box, "Subject: 2\n\n2\n");
	assert_true(mail_storage_quota_usage(storage, &usage, &err));
	assert_int_equal(usage.messages, 2);
	assert_int_equal(usage.bytes, 28);
	/* Over the byte limit: refused before anything is moved in. */
	params.expected_size = 200;
	assert_false(mailbox_save_begin(box, &params, &save, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_OVER_QUOTA);
	params.expected_size = 0;
	assert_true(mailbox_save_begin(box, &params, &save, &err));
	for (int i = 0; i < 10; i++)
		assert_true(mailbox_save_write(save, "0123456789", 10, &err));
	assert_false(mailbox_save_finish(&save, &uid, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_OVER_QUOTA);
	save_msg(box, "Subject: 3\n\n3\n");
	/* The message count limit. */
	assert_true(mailbox_save_begin(box, &params, &save, &err));
	assert_true(mailbox_save_write(save, "x", 1, &err));
	assert_false(mailbox_save_finish(&save, &uid, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_OVER_QUOTA);
	/* An ignored mailbox takes more. */
	assert_true(mailbox_create(storage, "Spam", &err));
	spam = box_open(storage, "Spam", 0);
	save_msg(spam, "Subject: s\n\ns\n");
	mailbox_close(&spam);
	sync_ok(box, NULL, 0);
	assert_int_equal(mailbox_count(box), 3);
	mailbox_close(&box);
	mail_storage_destroy(&storage);
}

static void test_mountpoint_refusal(void **state)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;
	char mnt[256], file[256], loc[512];
	struct buf before = BUF_INIT(1 << 16), after = BUF_INIT(1 << 16);

	(void)state;
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	assert_int_equal(mkdir(mnt, 0700), 0);
	snprintf(file, sizeof(file), "%s/mounts", base);
	assert_true(mountpoint_add(file, mnt, &err));
	snprintf(loc, sizeof(loc), "maildir:%s/vmail/%%d/%%n", mnt);
	set.mail_location = loc;
	set.user = "jdoe@example.com";
	set.mountpoints_file = file;
	tree(mnt, &before);
	assert_false(mail_storage_create(&set, &storage, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_MOUNTED);
	assert_true(mailbox_error_is_temporary(err.code));
	assert_non_null(strstr(err.text, "not mounted"));
	tree(mnt, &after);
	assert_string_equal(buf_cstr(&before), buf_cstr(&after));
	buf_free(&before);
	buf_free(&after);
	/* Unregistered: works. */
	assert_true(mountpoint_remove(file, mnt, &err));
	assert_true(mail_storage_create(&set, &storage, &err));
	mail_storage_destroy(&storage);
}

static void test_cache(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0), *b;
	struct mailbox_error err;
	const uint8_t *data;
	size_t len;

	(void)state;
	save_msg(a, "Subject: c1\n\nc\n");
	save_msg(a, "Subject: c2\n\nc\n");
	sync_ok(a, NULL, 0);
	assert_false(mailbox_cache_lookup(a, 1, 1, &data, &len));
	assert_true(mailbox_cache_add(a, 1, 1, "(\"envelope\")", 12));
	assert_true(mailbox_cache_add(a, 2, 1, "(\"env2\")", 8));
	assert_true(mailbox_cache_add(a, 2, 2, "(\"body2\")", 9));
	assert_true(mailbox_cache_flush(a, &err));
	assert_true(mailbox_cache_lookup(a, 2, 2, &data, &len));
	assert_int_equal(len, 9);
	assert_memory_equal(data, "(\"body2\")", 9);
	/* Another session sees it, and a new value shadows the old. */
	b = box_open(storage, "INBOX", 0);
	assert_true(mailbox_cache_lookup(b, 1, 1, &data, &len));
	assert_memory_equal(data, "(\"envelope\")", 12);
	assert_true(mailbox_cache_add(b, 1, 1, "new", 3));
	sync_ok(b, NULL, 0);
	assert_true(mailbox_cache_lookup(b, 1, 1, &data, &len));
	assert_memory_equal(data, "new", 3);
	sync_ok(a, NULL, 0);
	assert_true(mailbox_cache_lookup(a, 1, 1, &data, &len));
	assert_memory_equal(data, "new", 3);
	assert_true(mailbox_cache_lookup(a, 2, 1, &data, &len));
	assert_memory_equal(data, "(\"env2\")", 8);
	mailbox_close(&b);
	mailbox_close(&a);
	mail_storage_destroy(&storage);
}

static void test_cache_compaction(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0), *b;
	struct mailbox_error err;
	const uint8_t *data;
	size_t len;
	char value[1000], path[256];
	struct stat st1, st2;
	uint32_t uid = 2;
	bool shrank = false;

	(void)state;
	for (int i = 0; i < 200; i++)
		save_msg(a, "Subject: c\n\nc\n");
	sync_ok(a, NULL, 0);
	b = box_open(storage, "INBOX", 0);
	path_in(path, sizeof(path), "roost.index.cache");
	/* Rewrite every value several times: the file grows with dead
	   copies until a flush compacts it. */
	for (int round = 0; round < 8; round++) {
		for (uint32_t seq = 1; seq <= 200; seq++) {
			memset(value, 'a' + round, sizeof(value));
			assert_true(mailbox_cache_add(a, seq, 1, value, sizeof(value)));
			assert_true(mailbox_cache_add(a, seq, 2, value, 100 + seq));
		}
		assert_true(mailbox_cache_flush(a, &err));
		if (round == 0)
			assert_int_equal(stat(path, &st1), 0);
		assert_int_equal(stat(path, &st2), 0);
		shrank = shrank || (round > 0 && st2.st_size <= st1.st_size);
	}
	assert_true(shrank);
	assert_true(st2.st_size < st1.st_size * 5);
	assert_true(mailbox_expunge(a, &uid, 1, &err));
	for (uint32_t seq = 1; seq <= 200; seq++) {
		assert_true(mailbox_cache_lookup(a, seq, 1, &data, &len));
		assert_int_equal(len, sizeof(value));
		assert_int_equal(data[0], 'a' + 7);
		assert_true(mailbox_cache_lookup(a, seq, 2, &data, &len));
		assert_int_equal(len, 100 + seq);
	}
	/* The other session learns the new file at its next sync. */
	sync_ok(b, NULL, 0);
	for (uint32_t seq = 1; seq <= mailbox_count(b); seq++) {
		assert_true(mailbox_cache_lookup(b, seq, 1, &data, &len));
		assert_int_equal(data[len - 1], 'a' + 7);
	}
	mailbox_close(&b);
	mailbox_close(&a);
	mail_storage_destroy(&storage);
}

static void test_watch(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *a = box_open(storage, "INBOX", 0), *b;
	struct mailbox_error err;
	struct pollfd pfd;
	const char *paths[4];
	int fd;

	(void)state;
	assert_true(mailbox_watch_paths(a, paths, 4) >= 2);
	fd = mailbox_watch_start(a, &err);
	assert_true(fd >= 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	b = box_open(storage, "INBOX", MAILBOX_OPEN_SAVE_ONLY);
	save_msg(b, "Subject: w\n\nw\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	/* Stopped and started again: the same descriptor, old events
	   drained, woken only by new changes. */
	mailbox_watch_stop(a);
	assert_int_equal(mailbox_watch_start(a, &err), fd);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	mailbox_watch_stop(a);
	save_msg(b, "Subject: w2\n\nw\n");
	assert_int_equal(mailbox_watch_start(a, &err), fd);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	save_msg(b, "Subject: w3\n\nw\n");
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	mailbox_close(&b);
	mailbox_close(&a);
	mail_storage_destroy(&storage);
}

static void test_locations(void **state)
{
	struct mail_storage *storage;
	struct mailbox *box;
	struct mailbox_list list;
	struct mailbox_error err;
	char path[256], suffix[512];
	struct stat st;

	(void)state;
	/* INDEX= and CONTROL= elsewhere: files land there, never clash. */
	snprintf(suffix, sizeof(suffix), ":INDEX=%s/idx/%%n:CONTROL=%s/ctl/%%n", base, base);
	storage = storage_with(suffix, NULL, NULL, 5);
	assert_true(mailbox_create(storage, "Sent", &err));
	box = box_open(storage, "Sent", 0);
	save_msg(box, "Subject: s\n\ns\n");
	sync_ok(box, NULL, 0);
	mailbox_close(&box);
	snprintf(path, sizeof(path), "%s/idx/jdoe/.Sent/roost.index", base);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/ctl/jdoe/.Sent/dovecot-uidlist", base);
	assert_int_equal(stat(path, &st), 0);
	path_in(path, sizeof(path), ".Sent/dovecot-uidlist");
	assert_int_equal(stat(path, &st), -1);
	mail_storage_destroy(&storage);

	/* LAYOUT=fs nests directories. */
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
	storage = storage_with(":LAYOUT=fs", NULL, NULL, 5);
	assert_true(mailbox_create(storage, "Lists/roost", &err));
	assert_true(mailbox_create(storage, "Archive.2024", &err));
	path_in(path, sizeof(path), "Lists/roost/cur");
	assert_int_equal(stat(path, &st), 0);
	assert_true(mailbox_list_get(storage, &list, &err));
	assert_int_equal(list.count, 4);
	assert_string_equal(list.infos[0].name, "INBOX");
	assert_string_equal(list.infos[1].name, "Archive.2024");
	assert_string_equal(list.infos[2].name, "Lists");
	assert_int_equal(list.infos[2].flags, MAILBOX_INFO_NOSELECT | MAILBOX_INFO_HAS_CHILDREN);
	mailbox_list_free(&list);
	assert_true(mailbox_rename(storage, "Lists", "Groups", &err));
	box = box_open(storage, "Groups/roost", 0);
	mailbox_close(&box);
	mail_storage_destroy(&storage);

	/* INDEX=MEMORY keeps no index file. */
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
	storage = storage_with(":INDEX=MEMORY", NULL, NULL, 5);
	box = box_open(storage, "INBOX", 0);
	save_msg(box, "Subject: m\n\nm\n");
	sync_ok(box, NULL, 0);
	assert_int_equal(mailbox_count(box), 1);
	assert_false(mailbox_cache_add(box, 1, 1, "x", 1));
	mailbox_close(&box);
	path_in(path, sizeof(path), "roost.index");
	assert_int_equal(stat(path, &st), -1);
	mail_storage_destroy(&storage);
}

static void test_readonly(void **state)
{
	struct mail_storage *storage = storage_new();
	struct mailbox *box = box_open(storage, "INBOX", MAILBOX_OPEN_SAVE_ONLY), *ro;
	struct mailbox_save_params params = {0};
	struct mailbox_save *save;
	struct mailbox_error err;
	uint32_t uid = 1;
	char path[256];

	(void)state;
	save_msg(box, "Subject: r\n\nr\n");
	assert_false(mailbox_sync(box, 0, NULL, &err));
	mailbox_close(&box);
	ro = box_open(storage, "INBOX", MAILBOX_OPEN_READONLY);
	assert_int_equal(mailbox_count(ro), 1);
	/* EXAMINE leaves new/ alone. */
	path_in(path, sizeof(path), "new");
	assert_int_equal(count_dir(path), 1);
	assert_true(mailbox_is_readonly(ro));
	assert_false(
		mailbox_update_flags(ro, &uid, 1, MAILBOX_FLAGS_ADD, MAIL_SEEN, 0, 0, NULL, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_ALLOWED);
	assert_false(mailbox_expunge(ro, &uid, 1, &err));
	params.internal_date = INDEX_DATE_UNKNOWN;
	assert_false(mailbox_save_begin(ro, &params, &save, &err));
	mailbox_close(&ro);
	assert_false(mailbox_open(storage, "Missing", 0, &ro, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_FOUND);
	ro = box_open(storage, "Missing", MAILBOX_OPEN_AUTOCREATE);
	assert_string_equal(mailbox_get_name(ro), "Missing");
	mailbox_close(&ro);
	mail_storage_destroy(&storage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_save_and_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_very_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_change_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidlist_compacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settled_mtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes_first_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_change_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_crash_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_stay_inside_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_create_delete_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriptions_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords_and_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mountpoint_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	};
	log_init_stderr("test-mailbox");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
