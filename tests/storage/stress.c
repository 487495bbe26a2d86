/*
 * Crash and concurrency stress for the mail store (built and run by
 * stress.py): delivery workers, IMAP-like workers (sync, flag changes,
 * expunges, copies) and POP3-like readers run on one Maildir while the
 * parent SIGKILLs random workers and starts new ones. At the end every
 * acknowledged delivery must be present exactly once, no file may carry two
 * UIDs, no UID two files, and UIDs must only grow. A plain test tool;
 * trusts its arguments.
 *
 * usage: stress ROOT SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"

#define WORKERS 6
#define MAX_IDS 200000

static char root[1024];
static char ack_path[1100];

static struct mail_storage *make_storage(void)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;
	static char loc[1100];

	snprintf(loc, sizeof(loc), "maildir:%s", root);
	set.mail_location = loc;
	set.user = "stress";
	set.fsync = MAIL_FSYNC_NEVER;
	set.lock_timeout_secs = 60;
	set.very_dirty_syncs = getenv("STRESS_VERY_DIRTY") != NULL;
	if (!mail_storage_create(&set, &storage, &err)) {
		fprintf(stderr, "storage: %s\n", err.text);
		exit(1);
	}
	return storage;
}

static void fail(const char *what, const struct mailbox_error *err)
{
	fprintf(stderr, "[%d] %s: %s\n", (int)getpid(), what, err != NULL ? err->text : "");
	exit(3);
}

/* Delivers messages "Subject: D<pid>-<n>" ("X..." ones may be expunged)
   and logs each acknowledged one. */
static void deliverer(void)
{
	struct mail_storage *storage = make_storage();
	int ack = open(ack_path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	for (unsigned int n = 0;; n++) {
		struct mailbox_save_params params = {0};
		struct mailbox_save *save;
		struct mailbox_error err;
		struct mailbox *box;
		char msg[256], line[64];
		uint32_t uid;
		bool x = n % 3 == 0;
		int len;

		params.internal_date = INDEX_DATE_UNKNOWN;
		params.flags = n % 4 == 1 ? MAIL_SEEN : 0;
		if (!mailbox_open(storage, "INBOX", MAILBOX_OPEN_SAVE_ONLY, &box, &err))
			fail("open", &err);
		len = snprintf(msg, sizeof(msg), "Subject: %c%d-%u\n\nbody %u\n", x ? 'X' : 'D',
			       (int)getpid(), n, n);
		if (!mailbox_save_begin(box, &params, &save, &err) ||
		    !mailbox_save_write(save, msg, (size_t)len, &err) ||
		    !mailbox_save_finish(&save, &uid, &err))
			fail("save", &err);
		mailbox_close(&box);
		len = snprintf(line, sizeof(line), "%c%d-%u\n", x ? 'X' : 'D', (int)getpid(), n);
		if (write(ack, line, (size_t)len) != len)
			exit(4);
		usleep(1000 + rand() % 3000);
	}
}

/* Reads the subject id of message seq into id (empty if unreadable). */
static void read_id(struct mailbox *box, uint32_t seq, char *id, size_t size)
{
	struct mailbox_error err;
	char buf[256];
	ssize_t n;
	int fd;

	id[0] = '\0';
	if (!mailbox_mail_open(box, seq, &fd, &err))
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 9 && strncmp(buf, "Subject: ", 9) == 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(id, size, "%s", buf + 9);
	}
}

/* An IMAP session: sync, check the view, change flags, expunge X ones. */
static void imap_worker(void)
{
	struct mail_storage *storage = make_storage();
	struct mailbox_error err;
	struct mailbox *box;
	uint32_t last_uid_seen = 0;

	if (!mailbox_open(storage, "INBOX", MAILBOX_OPEN_CLAIM_RECENT, &box, &err))
		fail("open", &err);
	for (;;) {
		struct mailbox_changes ch;
		uint32_t count, seq, uid;
		char id[64];

		if (!mailbox_sync(box, rand() % 10 == 0 ? MAILBOX_SYNC_FORCE_SCAN : 0, &ch, &err))
			fail("sync", &err);
		if (ch.uidvalidity_changed) {
			fprintf(stderr, "UIDVALIDITY changed\n");
			exit(5);
		}
		mailbox_changes_free(&ch);
		count = mailbox_count(box);
		for (seq = 2; seq <= count; seq++) {
			if (mailbox_record(box, seq)->uid <= mailbox_record(box, seq - 1)->uid) {
				fprintf(stderr, "UIDs not ascending\n");
				exit(6);
			}
		}
		/* Messages are only ever appended with higher UIDs. */
		if (mailbox_next_uid(box) < last_uid_seen ||
		    (count > 0 && mailbox_record(box, count)->uid >= mailbox_next_uid(box))) {
			fprintf(stderr, "UIDNEXT went backwards\n");
			exit(7);
		}
		last_uid_seen = mailbox_next_uid(box);
		if (count == 0) {
			usleep(5000);
			continue;
		}
		seq = 1 + (uint32_t)rand() % count;
		uid = mailbox_record(box, seq)->uid;
		read_id(box, seq, id, sizeof(id));
		switch (rand() % 4) {
		case 0:
		case 1: {
			uint32_t flags =
				(uint32_t)rand() & (MAIL_SEEN | MAIL_FLAGGED | MAIL_ANSWERED);

			if (!mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_REPLACE, flags, 0, 0,
						  NULL, &err))
				fail("store", &err);
			break;
		}
		case 2:
			if (id[0] == 'X' && !mailbox_expunge(box, &uid, 1, &err))
				fail("expunge", &err);
			break;
		default: {
			uint32_t dest_uid;
			struct mailbox *arch;

			if (!mailbox_open(storage, "Archive", MAILBOX_OPEN_AUTOCREATE, &arch, &err))
				fail("open archive", &err);
			if (!mailbox_copy(box, &uid, 1, arch, &dest_uid, &err))
				fail("copy", &err);
			mailbox_close(&arch);
			break;
		}
		}
		usleep((useconds_t)(rand() % 4000));
	}
}

/* A POP3 session: open, read everything, close. */
static void pop3_worker(void)
{
	struct mail_storage *storage = make_storage();

	for (;;) {
		struct mailbox_error err;
		struct mailbox *box;
		char id[64];

		if (!mailbox_open(storage, "INBOX", 0, &box, &err))
			fail("open", &err);
		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++)
			read_id(box, seq, id, sizeof(id));
		mailbox_close(&box);
		usleep(20000);
	}
}

static pid_t spawn(int kind)
{
	pid_t pid = fork();

	if (pid == 0) {
		srand((unsigned int)getpid());
		if (kind == 0)
			deliverer();
		else if (kind == 1)
			imap_worker();
		else
			pop3_worker();
		_exit(0);
	}
	return pid;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	static const int kinds[WORKERS] = {0, 0, 1, 1, 1, 2};
	pid_t pids[WORKERS];
	time_t end;
	unsigned int kills = 0;
	int status, bad = 0;

	if (argc != 3)
		return 2;
	log_init_stderr("stress");
	snprintf(root, sizeof(root), "%s", argv[1]);
	snprintf(ack_path, sizeof(ack_path), "%s.acked", root);
	end = time(NULL) + atoi(argv[2]);
	mail_storage_destroy(&(struct mail_storage *){make_storage()});
	for (int i = 0; i < WORKERS; i++)
		pids[i] = spawn(kinds[i]);
	srand((unsigned int)getpid());
	while (time(NULL) < end) {
		int i = rand() % WORKERS;
		pid_t done;

		usleep(20000 + (useconds_t)(rand() % 60000));
		/* A worker that exited by itself found an inconsistency. */
		while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
				fprintf(stderr, "worker %d failed with %d\n", (int)done,
					WEXITSTATUS(status));
				bad = 1;
			}
			for (int j = 0; j < WORKERS; j++) {
				if (pids[j] == done)
					pids[j] = spawn(kinds[j]);
			}
		}
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
		pids[i] = spawn(kinds[i]);
		kills++;
	}
	for (int i = 0; i < WORKERS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
	}

	/* Verify: open fresh, read every message once. */
	{
		struct mail_storage *storage = make_storage();
		struct mailbox_error err;
		struct mailbox *box;
		char **ids = calloc(MAX_IDS, sizeof(char *));
		size_t n = 0, acked = 0, missing = 0, dups = 0;
		FILE *f;
		char line[128];

		if (!mailbox_open(storage, "INBOX", 0, &box, &err) ||
		    !mailbox_sync(box, MAILBOX_SYNC_FORCE_SCAN, NULL, &err))
			fail("final open", &err);
		for (uint32_t seq = 1; seq <= mailbox_count(box) && n < MAX_IDS; seq++) {
			char id[64];

			read_id(box, seq, id, sizeof(id));
			if (id[0] == '\0') {
				fprintf(stderr, "unreadable message uid %u\n",
					mailbox_record(box, seq)->uid);
				bad = 1;
				continue;
			}
			ids[n++] = strdup(id);
		}
		qsort(ids, n, sizeof(char *), cmp_str);
		for (size_t i = 1; i < n; i++) {
			if (strcmp(ids[i], ids[i - 1]) == 0) {
				fprintf(stderr, "duplicate message %s\n", ids[i]);
				dups++;
			}
		}
		f = fopen(ack_path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			char *key = line;

			line[strcspn(line, "\n")] = '\0';
			if (line[0] != 'D')
				continue;
			acked++;
			if (bsearch(&key, ids, n, sizeof(char *), cmp_str) == NULL) {
				fprintf(stderr, "lost acknowledged message %s\n", line);
				missing++;
			}
		}
		if (f != NULL)
			fclose(f);
		printf("stress: %u kills, %zu messages, %zu acknowledged kept deliveries, %zu "
		       "lost, "
		       "%zu duplicated\n",
		       kills, n, acked, missing, dups);
		if (missing > 0 || dups > 0)
			bad = 1;
		mailbox_close(&box);
		mail_storage_destroy(&storage);
	}
	return bad;
}
