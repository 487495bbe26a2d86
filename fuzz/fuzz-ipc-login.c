/*
 * libFuzzer harness for the decoders of the login IPC channel(s)
 * (lib/ipc/msg-login.h): framing checks in ipc_recv() and the table-driven
 * decoder with every message type.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc-fuzz.h"
#include "ipc/msg-login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ipc_channel(&login_channel, data, size);
	return 0;
}
