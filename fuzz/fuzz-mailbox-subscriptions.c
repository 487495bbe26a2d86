/*
 * libFuzzer harness for the subscriptions file reader: any bytes give a
 * list of valid names, and writing that list back parses to the same list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/mailbox.h"
#include "../storage/mailbox-name.h"
#include "../storage/mailbox-subscriptions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int layout = 0; layout < 2; layout++) {
		char **names = mailbox_subscriptions_parse((const char *)data, size,
							   (enum mail_layout)layout);
		struct buf out = BUF_INIT(SUBSCRIPTIONS_FILE_MAX);
		struct mailbox_error err;
		char **again;
		size_t i;

		for (i = 0; names[i] != NULL; i++) {
			if (!mailbox_name_is_inbox(names[i]) &&
			    !mailbox_name_validate(names[i], (enum mail_layout)layout, &err))
				abort();
		}
		if (mailbox_subscriptions_format(names, &out)) {
			again = mailbox_subscriptions_parse(buf_cstr(&out), buf_len(&out),
							    (enum mail_layout)layout);
			for (i = 0; names[i] != NULL; i++) {
				if (again[i] == NULL || strcmp(again[i], names[i]) != 0)
					abort();
			}
			if (again[i] != NULL)
				abort();
			mailbox_subscriptions_free(&again);
		}
		buf_free(&out);
		mailbox_subscriptions_free(&names);
	}
	return 0;
}
