/*
 * libFuzzer harness for the dovecot-keywords reader: any bytes parse
 * without crashing, every parsed name is a valid keyword found at its
 * index.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../storage/maildir-keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_keywords kw;

	maildir_keywords_init(&kw);
	maildir_keywords_parse(&kw, (const char *)data, size);
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		const char *name = maildir_keywords_name(&kw, i);

		if (name == NULL)
			continue;
		if (!maildir_keyword_name_valid(name) ||
		    maildir_keywords_lookup(&kw, name) != (int)i)
			abort();
	}
	maildir_keywords_deinit(&kw);
	return 0;
}
