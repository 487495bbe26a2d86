/*
 * libFuzzer harness for storage/message-address.c: parses arbitrary header
 * values as address lists, checks the group markers pair up and the fields
 * each element type promises are there, and writes them as an ENVELOPE
 * address list that must be well-formed IMAP.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pool.h"
#include "../storage/imap-envelope.h"
#include "../storage/message-address.h"
#include "fuzz-imap-syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(8 << 20);
	struct message_address *list;
	struct imap_envelope env;
	struct buf out = BUF_INIT(16 << 20);
	const char *error;
	unsigned int count, n = 0;
	bool in_group = false;

	list = message_address_parse(pool, data, size, 0, &count, &error);
	for (const struct message_address *a = list; a != NULL; a = a->next) {
		switch (a->type) {
		case MESSAGE_ADDRESS_GROUP_START:
			CHECK(!in_group && a->mailbox != NULL && a->domain == NULL);
			in_group = true;
			break;
		case MESSAGE_ADDRESS_GROUP_END:
			CHECK(in_group && a->mailbox == NULL && a->name == NULL);
			in_group = false;
			break;
		case MESSAGE_ADDRESS_MAILBOX:
			CHECK(a->invalid || (a->mailbox != NULL && a->domain != NULL));
			break;
		}
		n++;
	}
	CHECK(!in_group);
	CHECK(list == NULL ? (error != NULL || n == 0) : (error == NULL && n == count));

	memset(&env, 0, sizeof(env));
	env.to = env.from = env.sender = env.reply_to = list;
	env.subject = (const char *)"x";
	CHECK(imap_envelope_write(&out, &env, 0));
	CHECK(fuzz_imap_syntax_ok(buf_data(&out), buf_len(&out)));
	buf_free(&out);
	pool_destroy(&pool);
	return 0;
}
