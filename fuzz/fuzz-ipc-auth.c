/*
 * libFuzzer harness for the decoders of the auth IPC channel(s)
 * (lib/ipc/msg-auth.h): framing checks in ipc_recv() and the table-driven
 * decoder with every message type.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc-fuzz.h"
#include "ipc/msg-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ipc_channel(&auth_login_channel, data, size);
	fuzz_ipc_channel(&auth_master_channel, data, size);
	fuzz_ipc_channel(&auth_userdb_channel, data, size);
	return 0;
}
