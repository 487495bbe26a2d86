/*
 * Shared body of the IPC decoder harnesses: the input is one frame as it
 * would arrive on a SEQPACKET socket (header + payload), received with
 * ipc_recv() and decoded with every message definition of a channel.
 */
#ifndef ROOST_IPC_FUZZ_H
#define ROOST_IPC_FUZZ_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc-codec.h"

static int fuzz_pair[2] = {-1, -1};

static void fuzz_ipc_channel(const struct ipc_channel *ch, const uint8_t *data, size_t size)
{
	static struct ipc_message msg;
	static uint8_t out[1 << 17];
	const char *error;

	if (fuzz_pair[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fuzz_pair) < 0)
		abort();
	if (size > IPC_HEADER_SIZE + IPC_MAX_PAYLOAD)
		return;
	if (send(fuzz_pair[1], data, size, 0) != (ssize_t)size)
		abort();
	if (ipc_recv(fuzz_pair[0], &msg) > 0) {
		if (ipc_message_decode(ch, &msg, out, sizeof(out), &error) != NULL) {
			/* A decoded message must encode again within limits. */
			const struct ipc_msg_def *def = ipc_channel_find(ch, msg.type);
			struct buf again = BUF_INIT(IPC_MAX_PAYLOAD);

			if (!ipc_encode(def, out, &again) || buf_len(&again) != msg.len ||
			    memcmp(buf_data(&again), msg.payload, msg.len) != 0)
				abort();
			buf_free(&again);
		}
		ipc_message_close_fds(&msg);
	}
	/* The raw payload against every definition, whatever the header said. */
	for (size_t i = 0; i < ch->msg_count; i++)
		(void)ipc_decode(&ch->msgs[i], data, size, out, &error);
}

#endif
