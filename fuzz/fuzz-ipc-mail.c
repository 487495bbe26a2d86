/*
 * libFuzzer harness for the decoders of the mail IPC channel(s)
 * (lib/ipc/msg-mail.h): framing checks in ipc_recv() and the table-driven
 * decoder with every message type.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc-fuzz.h"
#include "ipc/msg-mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ipc_channel(&mail_channel, data, size);
	return 0;
}
