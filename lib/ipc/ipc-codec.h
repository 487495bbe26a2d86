/*
 * Table-driven encoding of IPC payloads: each message type is a C struct
 * plus a field table, and one audited decoder checks every length against
 * the table. Strings travel as u16 length + bytes and may not contain NUL;
 * blobs as u32 length + bytes. A payload decodes only if it is consumed
 * exactly, with no trailing bytes.
 */
#ifndef ROOST_IPC_CODEC_H
#define ROOST_IPC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipc.h"

enum ipc_field_type {
	IPC_FIELD_U8,
	IPC_FIELD_U16,
	IPC_FIELD_U32,
	IPC_FIELD_U64,
	IPC_FIELD_STR,	/* char array; size includes the NUL */
	IPC_FIELD_BLOB, /* uint8_t array of size bytes; length in a size_t field */
};

struct ipc_field {
	enum ipc_field_type type;
	size_t offset;
	size_t size;
	size_t len_offset;
};

struct ipc_msg_def {
	uint16_t type;
	const char *name;
	size_t struct_size;
	const struct ipc_field *fields;
	size_t field_count;
	unsigned int fd_count; /* descriptors that must come with the message */
};

struct ipc_channel {
	const char *name;
	const struct ipc_msg_def *msgs;
	size_t msg_count;
};

#define IPC_U8(s, f)                                                 \
	{                                                            \
		IPC_FIELD_U8, offsetof(s, f), sizeof(((s *)0)->f), 0 \
	}
#define IPC_U16(s, f)                                                 \
	{                                                             \
		IPC_FIELD_U16, offsetof(s, f), sizeof(((s *)0)->f), 0 \
	}
#define IPC_U32(s, f)                                                 \
	{                                                             \
		IPC_FIELD_U32, offsetof(s, f), sizeof(((s *)0)->f), 0 \
	}
#define IPC_U64(s, f)                                                 \
	{                                                             \
		IPC_FIELD_U64, offsetof(s, f), sizeof(((s *)0)->f), 0 \
	}
#define IPC_STR(s, f)                                                 \
	{                                                             \
		IPC_FIELD_STR, offsetof(s, f), sizeof(((s *)0)->f), 0 \
	}
#define IPC_BLOB(s, f, lenf)                                                           \
	{                                                                              \
		IPC_FIELD_BLOB, offsetof(s, f), sizeof(((s *)0)->f), offsetof(s, lenf) \
	}
#define IPC_MSG(t, s, fields, nfds)                                \
	{                                                          \
		t, #t, sizeof(s), fields, N_ELEMENTS(fields), nfds \
	}
#define IPC_MSG_EMPTY(t, s, nfds)               \
	{                                       \
		t, #t, sizeof(s), NULL, 0, nfds \
	}

/* The definition of a type on a channel, or NULL for an unknown type. */
const struct ipc_msg_def *ipc_channel_find(const struct ipc_channel *ch, uint16_t type);

/*
 * Encodes msg (a struct of def->struct_size bytes) into out. Fails (false)
 * only if a string is not terminated within its array or a blob length
 * exceeds its array, which is a bug in the sender.
 */
bool ipc_encode(const struct ipc_msg_def *def, const void *msg, struct buf *out);

/*
 * Decodes a payload into msg_r (zeroed first). Returns false with *error_r
 * set (static text) on any violation: short field, string too long for its
 * array or containing NUL, blob too large, trailing bytes.
 */
bool ipc_decode(const struct ipc_msg_def *def, const uint8_t *payload, size_t len, void *msg_r,
		const char **error_r);

/*
 * Receiving side in one step: finds the type on the channel, checks the
 * descriptor count and decodes into msg_r, which must have room for
 * msg_size bytes. Returns the definition, or NULL with *error_r set.
 */
const struct ipc_msg_def *ipc_message_decode(const struct ipc_channel *ch,
					     const struct ipc_message *msg, void *msg_r,
					     size_t msg_size, const char **error_r);

/* Encodes and sends (blocking) in one step. Returns 0 or -1 with errno. */
int ipc_send_msg(int fd, const struct ipc_msg_def *def, const void *msg, const int *fds,
		 unsigned int fd_count);
/* Encodes and queues on a connection. */
bool ipc_conn_send_msg(struct ipc_conn *conn, const struct ipc_msg_def *def, const void *msg,
		       const int *fds, unsigned int fd_count);

#endif
