/*
 * libFuzzer harness for Maildir file name parsing: any bytes are either
 * refused or parse, and rebuilding the name with its own flags gives a name
 * that parses to the same base, flags and keywords.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/mailbox-flags.h"
#include "../storage/maildir-filename.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_filename fn, fn2;
	struct buf out = BUF_INIT(1024);
	const char *name = (const char *)data;

	if (!maildir_filename_parse(name, size, &fn)) {
		buf_free(&out);
		return 0;
	}
	if (fn.base_len == 0 || fn.base_len > size || fn.psize > MAILDIR_SIZE_MAX)
		abort();
	if (maildir_filename_build(name, size, fn.flags, fn.keywords, &out) &&
	    buf_len(&out) <= MAILDIR_FILENAME_MAX) {
		if (!maildir_filename_parse(buf_cstr(&out), buf_len(&out), &fn2))
			abort();
		if (fn2.flags != fn.flags || fn2.keywords != fn.keywords ||
		    fn2.base_len != fn.base_len ||
		    maildir_filename_base_cmp(name, size, buf_cstr(&out), buf_len(&out)) != 0)
			abort();
	}
	buf_free(&out);
	return 0;
}
