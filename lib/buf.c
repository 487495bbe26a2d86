/*
 * Bounded buffers, cursors and fixed-size string helpers (see buf.h). Every
 * size computation here is overflow-checked; a request past a buffer's
 * maximum fails without changing the buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

void buf_init(struct buf *b, size_t max)
{
	b->data_ = NULL;
	b->used_ = 0;
	b->alloc_ = 0;
	b->max_ = max;
}

void buf_free(struct buf *b)
{
	free(b->data_);
	b->data_ = NULL;
	b->used_ = 0;
	b->alloc_ = 0;
}

void buf_free_secret(struct buf *b)
{
	if (b->data_ != NULL)
		explicit_bzero(b->data_, b->alloc_);
	buf_free(b);
}

size_t buf_len(const struct buf *b)
{
	return b->used_;
}

size_t buf_max(const struct buf *b)
{
	return b->max_;
}

size_t buf_room(const struct buf *b)
{
	return b->max_ - b->used_;
}

const uint8_t *buf_data(const struct buf *b)
{
	static const uint8_t empty[1];

	return b->data_ == NULL ? empty : b->data_;
}

uint8_t *buf_data_mut(struct buf *b)
{
	if (b->data_ == NULL)
		(void)buf_reserve(b, 0);
	return b->data_;
}

const char *buf_cstr(const struct buf *b)
{
	return (const char *)buf_data(b);
}

/* Makes room for n more bytes plus the trailing NUL; false past max_. */
static bool buf_grow(struct buf *b, size_t n)
{
	size_t need, newsize;

	if (n > b->max_ - b->used_)
		return false;
	need = b->used_ + n + 1;
	if (need <= b->alloc_)
		return true;
	newsize = b->alloc_ < 64 ? 64 : b->alloc_;
	while (newsize < need) {
		if (newsize > SIZE_MAX / 2) {
			newsize = need;
			break;
		}
		newsize *= 2;
	}
	if (newsize > b->max_ + 1)
		newsize = b->max_ + 1;
	b->data_ = i_realloc(b->data_, newsize);
	b->alloc_ = newsize;
	return true;
}

uint8_t *buf_reserve(struct buf *b, size_t n)
{
	if (!buf_grow(b, n))
		return NULL;
	b->data_[b->used_] = '\0';
	return b->data_ + b->used_;
}

void buf_commit(struct buf *b, size_t n)
{
	if (n > b->alloc_ - b->used_ - 1)
		abort(); /* caller wrote past what it reserved */
	b->used_ += n;
	b->data_[b->used_] = '\0';
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
	if (!buf_grow(b, n))
		return false;
	if (n > 0)
		memcpy(b->data_ + b->used_, p, n);
	b->used_ += n;
	b->data_[b->used_] = '\0';
	return true;
}

bool buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_append_c(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

bool buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !buf_grow(b, (size_t)n))
		return false;
	(void)vsnprintf((char *)b->data_ + b->used_, (size_t)n + 1, fmt, ap);
	b->used_ += (size_t)n;
	return true;
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	bool ret;

	va_start(ap, fmt);
	ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ret;
}

void buf_truncate(struct buf *b, size_t n)
{
	if (n >= b->used_)
		return;
	b->used_ = n;
	b->data_[n] = '\0';
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->used_) {
		buf_reset(b);
		return;
	}
	memmove(b->data_, b->data_ + n, b->used_ - n);
	b->used_ -= n;
	b->data_[b->used_] = '\0';
}

void buf_reset(struct buf *b)
{
	b->used_ = 0;
	if (b->data_ != NULL)
		b->data_[0] = '\0';
}

void buf_move(struct buf *dst, struct buf *src)
{
	buf_free(dst);
	*dst = *src;
	src->data_ = NULL;
	src->used_ = 0;
	src->alloc_ = 0;
}

void cursor_init(struct cursor *c, const void *p, size_t len)
{
	c->p_ = p;
	c->len_ = len;
	c->pos_ = 0;
}

size_t cursor_left(const struct cursor *c)
{
	return c->len_ - c->pos_;
}

size_t cursor_pos(const struct cursor *c)
{
	return c->pos_;
}

bool cursor_get_bytes(struct cursor *c, size_t n, const uint8_t **p_r)
{
	if (n > cursor_left(c))
		return false;
	*p_r = c->p_ + c->pos_;
	c->pos_ += n;
	return true;
}

bool cursor_skip(struct cursor *c, size_t n)
{
	const uint8_t *p;

	return cursor_get_bytes(c, n, &p);
}

static bool cursor_get_le(struct cursor *c, size_t n, uint64_t *v_r)
{
	const uint8_t *p;
	uint64_t v = 0;

	if (!cursor_get_bytes(c, n, &p))
		return false;
	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	*v_r = v;
	return true;
}

bool cursor_get_u8(struct cursor *c, uint8_t *v_r)
{
	uint64_t v;

	if (!cursor_get_le(c, 1, &v))
		return false;
	*v_r = (uint8_t)v;
	return true;
}

bool cursor_get_u16(struct cursor *c, uint16_t *v_r)
{
	uint64_t v;

	if (!cursor_get_le(c, 2, &v))
		return false;
	*v_r = (uint16_t)v;
	return true;
}

bool cursor_get_u32(struct cursor *c, uint32_t *v_r)
{
	uint64_t v;

	if (!cursor_get_le(c, 4, &v))
		return false;
	*v_r = (uint32_t)v;
	return true;
}

bool cursor_get_u64(struct cursor *c, uint64_t *v_r)
{
	return cursor_get_le(c, 8, v_r);
}

static bool buf_put_le(struct buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return buf_append(b, tmp, n);
}

bool buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_le(b, v, 1);
}

bool buf_put_u16(struct buf *b, uint16_t v)
{
	return buf_put_le(b, v, 2);
}

bool buf_put_u32(struct buf *b, uint32_t v)
{
	return buf_put_le(b, v, 4);
}

bool buf_put_u64(struct buf *b, uint64_t v)
{
	return buf_put_le(b, v, 8);
}

bool str_copy_n(char *dst, size_t size, const char *src, size_t n)
{
	size_t len = strnlen(src, n);
	bool fits = len < size;

	if (size == 0)
		return false;
	if (!fits)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return fits;
}

bool str_copy(char *dst, size_t size, const char *src)
{
	return str_copy_n(dst, size, src, SIZE_MAX);
}

bool str_append(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(dst, size);

	if (len == size)
		return false;
	return str_copy(dst + len, size - len, src);
}

bool str_format(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}
