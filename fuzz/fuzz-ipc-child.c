/*
 * libFuzzer harness for the decoders of the child IPC channel
 * (lib/ipc/msg-child.h): framing checks in ipc_recv() and the table-driven
 * decoder with every message type of the channel.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc-fuzz.h"
#include "ipc/msg-child.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ipc_channel(&child_channel, data, size);
	return 0;
}
