/*
 * Bounded byte buffers and read cursors: the one type for bytes that came from
 * a socket, a file or another process. Used by every roost process; trusts
 * nothing about the bytes it holds, only the limits its owner set.
 */
#ifndef ROOST_BUF_H
#define ROOST_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"

/*
 * A growable buffer with a hard maximum. The fields are private: use the
 * functions below. The data is always followed by a NUL byte that is not
 * part of the length, so buf_cstr() is cheap, but the contents may hold NULs.
 */
struct buf {
	uint8_t *data_;
	size_t used_;
	size_t alloc_;
	size_t max_;
};

#define BUF_INIT(max)             \
	{                         \
		NULL, 0, 0, (max) \
	}

/* Sets up an empty buffer that refuses to grow past max bytes. */
void buf_init(struct buf *b, size_t max);
/* Releases the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Overwrites the contents with zeros before freeing (for secrets). */
void buf_free_secret(struct buf *b);

size_t buf_len(const struct buf *b);
size_t buf_max(const struct buf *b);
/* Bytes that may still be appended before the maximum is hit. */
size_t buf_room(const struct buf *b);
const uint8_t *buf_data(const struct buf *b);
/* Writable view of the contents, valid until the next append. */
uint8_t *buf_data_mut(struct buf *b);
/* The contents as a NUL-terminated string (embedded NULs cut it short). */
const char *buf_cstr(const struct buf *b);

/*
 * Appenders return false and leave the buffer unchanged when the result
 * would exceed the maximum. Allocation failure is fatal (exit 83).
 */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_append_str(struct buf *b, const char *s);
bool buf_append_c(struct buf *b, uint8_t c);
bool buf_printf(struct buf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap) ATTR_PRINTF(2, 0);
/* Reserves n writable bytes at the end; commit them with buf_commit(). */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

/* Shortens the contents to n bytes (no-op if already shorter). */
void buf_truncate(struct buf *b, size_t n);
/* Drops n bytes from the front (all of them if n exceeds the length). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Moves the contents of src into dst (dst's old contents are freed). */
void buf_move(struct buf *dst, struct buf *src);

/*
 * A read-only cursor over bytes it does not own. Every getter checks the
 * remaining length and returns false, consuming nothing, when it is short.
 * Integers are little-endian on the wire.
 */
struct cursor {
	const uint8_t *p_;
	size_t len_;
	size_t pos_;
};

void cursor_init(struct cursor *c, const void *p, size_t len);
size_t cursor_left(const struct cursor *c);
size_t cursor_pos(const struct cursor *c);
bool cursor_get_u8(struct cursor *c, uint8_t *v_r);
bool cursor_get_u16(struct cursor *c, uint16_t *v_r);
bool cursor_get_u32(struct cursor *c, uint32_t *v_r);
bool cursor_get_u64(struct cursor *c, uint64_t *v_r);
/* Points *p_r at the next n bytes inside the cursor's memory. */
bool cursor_get_bytes(struct cursor *c, size_t n, const uint8_t **p_r);
bool cursor_skip(struct cursor *c, size_t n);

/* Little-endian appenders matching the cursor getters. */
bool buf_put_u8(struct buf *b, uint8_t v);
bool buf_put_u16(struct buf *b, uint16_t v);
bool buf_put_u32(struct buf *b, uint32_t v);
bool buf_put_u64(struct buf *b, uint64_t v);

/*
 * Fixed-size C string helpers. Each writes at most size bytes including the
 * terminating NUL and returns false when the result had to be cut short (the
 * destination then holds the truncated, still terminated, string).
 */
bool str_copy(char *dst, size_t size, const char *src);
bool str_copy_n(char *dst, size_t size, const char *src, size_t n);
bool str_append(char *dst, size_t size, const char *src);
bool str_format(char *dst, size_t size, const char *fmt, ...) ATTR_PRINTF(3, 4);

/* Overflow-checked size arithmetic: false when the result does not fit. */
static inline bool size_add(size_t a, size_t b, size_t *r)
{
	return !__builtin_add_overflow(a, b, r);
}
static inline bool size_mul(size_t a, size_t b, size_t *r)
{
	return !__builtin_mul_overflow(a, b, r);
}

#endif
