/*
 * libFuzzer harness for the dovecot-uidlist reader: any bytes must parse
 * without crashing, lookups must find what was parsed, and what we write
 * back must parse to the same records.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "../storage/maildir-uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_uidlist ul, ul2;
	struct mailbox_error err;
	struct buf out = BUF_INIT(64 * 1024 * 1024);

	log_set_debug(false);
	maildir_uidlist_init(&ul);
	if (maildir_uidlist_parse(&ul, "fuzz", (const char *)data, size, &err)) {
		for (size_t i = 0; i < ul.count; i++) {
			const struct maildir_uidlist_rec *rec = &ul.recs[i];

			if (rec->uid == 0)
				continue;
			if (maildir_uidlist_lookup(&ul, maildir_uidlist_rec_name(&ul, rec),
						   rec->name_len) != (ssize_t)i)
				abort();
			if (maildir_uidlist_lookup_uid(&ul, rec->uid) != (ssize_t)i)
				abort();
		}
		if (ul.have_header && maildir_uidlist_format_header(&ul, &out)) {
			size_t live = 0;

			for (size_t i = 0; i < ul.count; i++) {
				if (ul.recs[i].uid != 0) {
					live++;
					if (!maildir_uidlist_format_rec(&ul, &ul.recs[i], &out))
						abort();
				}
			}
			maildir_uidlist_init(&ul2);
			if (!maildir_uidlist_parse(&ul2, "fuzz2", buf_cstr(&out), buf_len(&out),
						   &err) ||
			    ul2.count != live || ul2.uidvalidity != ul.uidvalidity)
				abort();
			maildir_uidlist_deinit(&ul2);
		}
	}
	buf_free(&out);
	maildir_uidlist_deinit(&ul);
	return 0;
}
