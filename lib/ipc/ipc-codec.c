/*
 * The one IPC payload decoder (see ipc-codec.h). Every process that
 * receives messages goes through ipc_decode(); it is fuzzed with every
 * channel's table.
 */
#include <errno.h>
#include <string.h>

#include "ipc-codec.h"
#include "log.h"

const struct ipc_msg_def *ipc_channel_find(const struct ipc_channel *ch, uint16_t type)
{
	for (size_t i = 0; i < ch->msg_count; i++) {
		if (ch->msgs[i].type == type)
			return &ch->msgs[i];
	}
	return NULL;
}

static uint64_t read_uint(const void *p, size_t size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)p;
	case 2:
		return *(const uint16_t *)p;
	case 4:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

static void write_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = v;
		break;
	}
}

bool ipc_encode(const struct ipc_msg_def *def, const void *msg, struct buf *out)
{
	const uint8_t *base = msg;

	for (size_t i = 0; i < def->field_count; i++) {
		const struct ipc_field *f = &def->fields[i];
		const uint8_t *field = base + f->offset;
		size_t len;
		bool ok = true;

		switch (f->type) {
		case IPC_FIELD_U8:
			ok = buf_put_u8(out, (uint8_t)read_uint(field, f->size));
			break;
		case IPC_FIELD_U16:
			ok = buf_put_u16(out, (uint16_t)read_uint(field, f->size));
			break;
		case IPC_FIELD_U32:
			ok = buf_put_u32(out, (uint32_t)read_uint(field, f->size));
			break;
		case IPC_FIELD_U64:
			ok = buf_put_u64(out, read_uint(field, f->size));
			break;
		case IPC_FIELD_STR:
			len = strnlen((const char *)field, f->size);
			if (len == f->size || len > UINT16_MAX)
				return false;
			ok = buf_put_u16(out, (uint16_t)len) && buf_append(out, field, len);
			break;
		case IPC_FIELD_BLOB:
			len = *(const size_t *)(const void *)(base + f->len_offset);
			if (len > f->size || len > UINT32_MAX)
				return false;
			ok = buf_put_u32(out, (uint32_t)len) && buf_append(out, field, len);
			break;
		}
		if (!ok)
			return false;
	}
	return buf_len(out) <= IPC_MAX_PAYLOAD;
}

bool ipc_decode(const struct ipc_msg_def *def, const uint8_t *payload, size_t len, void *msg_r,
		const char **error_r)
{
	uint8_t *base = msg_r;
	struct cursor c;

	memset(msg_r, 0, def->struct_size);
	cursor_init(&c, payload, len);
	for (size_t i = 0; i < def->field_count; i++) {
		const struct ipc_field *f = &def->fields[i];
		uint8_t *field = base + f->offset;
		const uint8_t *bytes;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;

		switch (f->type) {
		case IPC_FIELD_U8:
			if (!cursor_get_u8(&c, &u8))
				goto short_msg;
			write_uint(field, f->size, u8);
			break;
		case IPC_FIELD_U16:
			if (!cursor_get_u16(&c, &u16))
				goto short_msg;
			write_uint(field, f->size, u16);
			break;
		case IPC_FIELD_U32:
			if (!cursor_get_u32(&c, &u32))
				goto short_msg;
			write_uint(field, f->size, u32);
			break;
		case IPC_FIELD_U64:
			if (!cursor_get_u64(&c, &u64))
				goto short_msg;
			write_uint(field, f->size, u64);
			break;
		case IPC_FIELD_STR:
			if (!cursor_get_u16(&c, &u16) || !cursor_get_bytes(&c, u16, &bytes))
				goto short_msg;
			if (u16 >= f->size) {
				*error_r = "string field too long";
				return false;
			}
			if (memchr(bytes, '\0', u16) != NULL) {
				*error_r = "NUL in string field";
				return false;
			}
			memcpy(field, bytes, u16);
			field[u16] = '\0';
			break;
		case IPC_FIELD_BLOB:
			if (!cursor_get_u32(&c, &u32) || !cursor_get_bytes(&c, u32, &bytes))
				goto short_msg;
			if (u32 > f->size) {
				*error_r = "blob field too large";
				return false;
			}
			memcpy(field, bytes, u32);
			*(size_t *)(void *)(base + f->len_offset) = u32;
			break;
		}
	}
	if (cursor_left(&c) != 0) {
		*error_r = "trailing bytes after message";
		return false;
	}
	return true;
short_msg:
	*error_r = "message too short";
	return false;
}

const struct ipc_msg_def *ipc_message_decode(const struct ipc_channel *ch,
					     const struct ipc_message *msg, void *msg_r,
					     size_t msg_size, const char **error_r)
{
	const struct ipc_msg_def *def = ipc_channel_find(ch, msg->type);

	if (def == NULL) {
		*error_r = "unknown message type";
		return NULL;
	}
	if (def->struct_size > msg_size)
		panic("ipc_message_decode: %s needs %zu bytes, caller gave %zu", def->name,
		      def->struct_size, msg_size);
	if (msg->fd_count != def->fd_count) {
		*error_r = "wrong number of descriptors";
		return NULL;
	}
	if (!ipc_decode(def, msg->payload, msg->len, msg_r, error_r))
		return NULL;
	return def;
}

static bool encode_or_panic(const struct ipc_msg_def *def, const void *msg, struct buf *out)
{
	if (!ipc_encode(def, msg, out))
		panic("ipc_encode(%s) failed: a field exceeds its limit", def->name);
	return true;
}

int ipc_send_msg(int fd, const struct ipc_msg_def *def, const void *msg, const int *fds,
		 unsigned int fd_count)
{
	struct buf out = BUF_INIT(IPC_MAX_PAYLOAD);
	int ret;

	(void)encode_or_panic(def, msg, &out);
	ret = ipc_send(fd, def->type, buf_data(&out), buf_len(&out), fds, fd_count);
	buf_free(&out);
	return ret;
}

bool ipc_conn_send_msg(struct ipc_conn *conn, const struct ipc_msg_def *def, const void *msg,
		       const int *fds, unsigned int fd_count)
{
	struct buf out = BUF_INIT(IPC_MAX_PAYLOAD);
	bool ret;

	(void)encode_or_panic(def, msg, &out);
	ret = ipc_conn_send(conn, def->type, buf_data(&out), buf_len(&out), fds, fd_count);
	buf_free(&out);
	return ret;
}
