/*
 * Benchmark for the mail store: opens a Maildir's INBOX and lists (uid,
 * flags, vsize) of every message, the work behind IMAP SELECT + FETCH 1:*
 * (UID FLAGS RFC822.SIZE). Runs as a plain command-line tool built by
 * bench.py against build/test's libraries; trusts its arguments.
 *
 * usage: bench-open MAILDIR [REPEAT]
 * prints: "open+list N messages: S seconds (checksum X)" per repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "mailbox.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	set.mail_location = loc;
	set.user = "bench";
	set.fsync = MAIL_FSYNC_OPTIMIZED;
	for (int r = 0; r < repeat; r++) {
		struct mailbox *box;
		uint64_t sum = 0;
		double t0 = now(), t1;
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
		mailbox_close(&box);
		mail_storage_destroy(&storage);
		printf("open+list %u messages: %.4f seconds (close %.4f) (checksum %llu)\n", n,
		       t1 - t0, now() - t1, (unsigned long long)sum);
	}
	return 0;
}
