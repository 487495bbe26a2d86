/*
 * The deflate connection filter (see compress-deflate.h). Each batch of
 * output ends with a sync flush, so the client can decode every response
 * as soon as it arrives; input is inflated only as far as the connection
 * has room for.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress-deflate.h"
#include "xalloc.h"

/* Output space reserved per deflate() call. */
#define DEFLATE_OUT_CHUNK 16384

struct deflate_filter {
	struct connection_filter filter;
	z_stream in, out;
	bool in_ended;
};

static bool deflate_decode(struct connection_filter *filter, const uint8_t *in, size_t in_len,
			   size_t *consumed_r, uint8_t *out, size_t out_size, size_t *produced_r,
			   bool *pending_r, const char **error_r)
{
	struct deflate_filter *f = (struct deflate_filter *)filter;
	z_stream *z = &f->in;
	int ret;

	*consumed_r = 0;
	*produced_r = 0;
	*pending_r = false;
	if (f->in_ended) {
		*error_r = "Compressed input continued after its end";
		return in_len == 0;
	}
	/* uInt is 32 bits: callers pass at most a chunk at a time. */
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)(in_len > 65536 ? 65536 : in_len);
	z->next_out = out;
	z->avail_out = (uInt)(out_size > 65536 ? 65536 : out_size);
	size_t avail_in = z->avail_in, avail_out = z->avail_out;

	ret = inflate(z, Z_SYNC_FLUSH);
	switch (ret) {
	case Z_OK:
	case Z_BUF_ERROR: /* no progress possible now: wait for more */
		break;
	case Z_STREAM_END:
		f->in_ended = true;
		break;
	default:
		*error_r = "Invalid compressed input";
		return false;
	}
	*consumed_r = avail_in - z->avail_in;
	*produced_r = avail_out - z->avail_out;
	*pending_r = z->avail_out == 0;
	return true;
}

static bool deflate_encode(struct connection_filter *filter, const uint8_t *in, size_t in_len,
			   bool flush, struct buf *out, const char **error_r)
{
	struct deflate_filter *f = (struct deflate_filter *)filter;
	z_stream *z = &f->out;

	if (in_len > 65536) {
		*error_r = "Compression input too large";
		return false;
	}
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)in_len;
	for (;;) {
		uint8_t *p = buf_reserve(out, DEFLATE_OUT_CHUNK);
		int ret;

		if (p == NULL) {
			*error_r = "Output buffer full: the client is not reading";
			return false;
		}
		z->next_out = p;
		z->avail_out = DEFLATE_OUT_CHUNK;
		ret = deflate(z, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			*error_r = "Compression failed";
			return false;
		}
		buf_commit(out, DEFLATE_OUT_CHUNK - z->avail_out);
		/* Done when all input is taken and deflate had room to spare
		   (so a sync flush is complete). */
		if (z->avail_in == 0 && z->avail_out != 0)
			return true;
	}
}

static void deflate_destroy(struct connection_filter *filter)
{
	struct deflate_filter *f = (struct deflate_filter *)filter;

	(void)inflateEnd(&f->in);
	(void)deflateEnd(&f->out);
	free(f);
}

struct connection_filter *compress_deflate_create(int level, const char **error_r)
{
	struct deflate_filter *f = i_calloc(1, sizeof(*f));

	/* Negative window bits: raw deflate, as RFC 4978 requires. */
	if (inflateInit2(&f->in, -15) != Z_OK) {
		free(f);
		*error_r = "inflateInit2() failed";
		return NULL;
	}
	if (deflateInit2(&f->out, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		(void)inflateEnd(&f->in);
		free(f);
		*error_r = "deflateInit2() failed";
		return NULL;
	}
	f->filter.decode = deflate_decode;
	f->filter.encode = deflate_encode;
	f->filter.destroy = deflate_destroy;
	return &f->filter;
}
