/*
 * Benchmark for the mail store: opens a Maildir's INBOX and lists (uid,
 * flags, vsize) of every message, the work behind IMAP SELECT + FETCH 1:*
 * (UID FLAGS RFC822.SIZE). Runs as a plain command-line tool built by
 * bench.py against build/test's libraries; trusts its arguments.
 *
 * usage: bench-open MAILDIR [REPEAT]   open + list, REPEAT times
 *        bench-open MAILDIR ops        single operations on a big mailbox
 *        bench-open MAILDIR ops-dirty  the same with very_dirty_syncs
 * prints: "open+list N messages: S seconds (checksum X)" per repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "log.h"
#include "mailbox.h"

/* CPU time used by this process (user + system), less noisy than wall time
   on a busy machine. */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool very_dirty;

static struct mail_storage *storage_new(const char *loc)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;

	set.mail_location = loc;
	set.user = "bench";
	set.fsync = MAIL_FSYNC_OPTIMIZED;
	set.very_dirty_syncs = very_dirty;
	if (!mail_storage_create(&set, &storage, &err)) {
		fprintf(stderr, "storage: %s\n", err.text);
		exit(1);
	}
	return storage;
}

static struct mailbox *box_open(struct mail_storage *storage, unsigned int flags)
{
	struct mailbox_error err;
	struct mailbox *box;

	if (!mailbox_open(storage, "INBOX", flags, &box, &err)) {
		fprintf(stderr, "open: %s\n", err.text);
		exit(1);
	}
	return box;
}

#define TIME(label, ...)                                     \
	do {                                                 \
		double t_ = now();                           \
		__VA_ARGS__;                                 \
		printf("%-44s %.4f s\n", label, now() - t_); \
	} while (0)

/* Times the operations an IMAP session does on a big mailbox. */
static int ops(const char *loc)
{
	struct mail_storage *storage = storage_new(loc);
	struct mailbox *a = box_open(storage, 0), *b = box_open(storage, 0), *lda;
	struct mailbox_error err;
	struct mailbox_save_params params = {0};
	struct mailbox_save *save;
	uint32_t uid = mailbox_record(a, mailbox_count(a) / 2)->uid, new_uid, n;
	uint32_t flag = (mailbox_record(a, mailbox_count(a) / 2)->flags & MAIL_FLAGGED) != 0
				? 0
				: MAIL_FLAGGED;
	char value[200];
	const uint8_t *data;
	size_t len;
	uint64_t sum = 0;

	memset(value, 'e', sizeof(value));
	TIME("sync, nothing changed", mailbox_sync(a, 0, NULL, &err));
	TIME("STORE +FLAGS one message",
	     mailbox_update_flags(a, &uid, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, 0, 0, NULL, &err));
	TIME("other session's sync after that STORE", mailbox_sync(b, 0, NULL, &err));
	TIME("same session's next sync", mailbox_sync(a, 0, NULL, &err));
	lda = box_open(storage, MAILBOX_OPEN_SAVE_ONLY);
	params.internal_date = INDEX_DATE_UNKNOWN;
	TIME("delivery (open SAVE_ONLY, save, fsync)", {
		mailbox_save_begin(lda, &params, &save, &err);
		mailbox_save_write(save, "Subject: new\n\nhello\n", 20, &err);
		mailbox_save_finish(&save, &new_uid, &err);
	});
	mailbox_close(&lda);
	TIME("session sync after the delivery", mailbox_sync(a, 0, NULL, &err));
	TIME("other session's sync after the delivery", mailbox_sync(b, 0, NULL, &err));
	usleep(200000);
	TIME("sync 0.2 s later (cur/ re-read once)", mailbox_sync(a, 0, NULL, &err));
	TIME("sync again", mailbox_sync(a, 0, NULL, &err));
	n = mailbox_count(a);
	TIME("cache 2 values for every message + flush", {
		for (uint32_t seq = 1; seq <= n; seq++) {
			mailbox_cache_add(a, seq, 1, value, sizeof(value));
			mailbox_cache_add(a, seq, 2, value, 100);
		}
		mailbox_cache_flush(a, &err);
	});
	mailbox_close(&b);
	TIME("open + read 2 cached values of every message", {
		b = box_open(storage, 0);
		for (uint32_t seq = 1; seq <= n; seq++) {
			if (mailbox_cache_lookup(b, seq, 1, &data, &len))
				sum += len;
			if (mailbox_cache_lookup(b, seq, 2, &data, &len))
				sum += len;
		}
	});
	printf("(cached bytes read: %llu)\n", (unsigned long long)sum);
	TIME("INTERNALDATE of every message (first time)", {
		for (uint32_t seq = 1; seq <= n; seq++) {
			int64_t d1, d2;

			mailbox_mail_get_dates(b, seq, &d1, &d2, &err);
		}
	});
	TIME("expunge one message", mailbox_expunge(a, &uid, 1, &err));
	TIME("sync reporting it", mailbox_sync(a, 0, NULL, &err));
	mailbox_close(&a);
	mailbox_close(&b);
	mail_storage_destroy(&storage);
	return 0;
}

int main(int argc, char **argv)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;
	char loc[4096];
	int repeat = argc > 2 ? atoi(argv[2]) : 1;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-open MAILDIR [REPEAT]\n");
		return 2;
	}
	log_init_stderr("bench");
	snprintf(loc, sizeof(loc), "maildir:%s", argv[1]);
	if (argc > 2 && strncmp(argv[2], "ops", 3) == 0) {
		very_dirty = strcmp(argv[2], "ops-dirty") == 0;
		return ops(loc);
	}
	set.mail_location = loc;
	set.user = "bench";
	set.fsync = MAIL_FSYNC_OPTIMIZED;
	for (int r = 0; r < repeat; r++) {
		struct mailbox *box;
		uint64_t sum = 0;
		double t0 = now(), c0 = cpu(), t1, c1;
		uint32_t n;

		if (!mail_storage_create(&set, &storage, &err)) {
			fprintf(stderr, "storage: %s\n", err.text);
			return 1;
		}
		if (!mailbox_open(storage, "INBOX", MAILBOX_OPEN_CLAIM_RECENT, &box, &err)) {
			fprintf(stderr, "open: %s\n", err.text);
			return 1;
		}
		n = mailbox_count(box);
		for (uint32_t seq = 1; seq <= n; seq++) {
			const struct mail_record *rec = mailbox_record(box, seq);

			sum += rec->uid + rec->flags + rec->vsize;
		}
		t1 = now();
		c1 = cpu();
		mailbox_close(&box);
		mail_storage_destroy(&storage);
		printf("open+list %u messages: %.4f s wall, %.4f s cpu (close %.4f) (checksum "
		       "%llu)\n",
		       n, t1 - t0, c1 - c0, now() - t1, (unsigned long long)sum);
	}
	return 0;
}
