/*
 * The message as a Sieve script sees it: the header fields (with the
 * addheader/deleteheader changes of RFC 5293 applied, so later tests see
 * them), a per-message cache of lookups by name and of RFC 2047-decoded
 * values, and the MIME parts for the body test. Runs in roost-lda; the
 * header bytes come from the message parser and are treated as hostile.
 */
#include <string.h>
#include <strings.h>

#include "sieve-private.h"

int sieve_msgview_load(struct sieve_msgview *mv)
{
	const struct sieve_header_field *f;
	size_t count, i;

	if (mv->loaded)
		return 0;
	if (mv->ops->get_header_fields(mv->ctx, &f, &count) < 0)
		return -1;
	if (count > UINT32_MAX / 2)
		return -1;
	mv->fields = p_malloc_array(mv->pool, count + 1, sizeof(*mv->fields));
	if (mv->fields == NULL)
		return -1;
	mv->alloc = (unsigned int)count + 1;
	for (i = 0; i < count; i++) {
		struct sieve_hfield *h = &mv->fields[i];

		h->name = f[i].name;
		h->raw.s = f[i].value;
		h->raw.len = f[i].value_len;
		h->orig_index = (int)i;
	}
	mv->count = (unsigned int)count;
	mv->loaded = true;
	return 0;
}

static struct sieve_hcache *cache_lookup(struct sieve_msgview *mv, const char *name)
{
	struct sieve_hcache *c;
	unsigned int i, n = 0, alloc = 0;

	for (i = 0; i < mv->cache_count; i++) {
		if (strcasecmp(mv->cache[i].name, name) == 0)
			return &mv->cache[i];
	}
	if (!sieve_parray_grow(mv->pool, (void **)&mv->cache, &mv->cache_alloc, mv->cache_count + 1,
			       sizeof(*mv->cache)))
		return NULL;
	c = &mv->cache[mv->cache_count];
	memset(c, 0, sizeof(*c));
	c->name = p_strdup(mv->pool, name);
	if (c->name == NULL)
		return NULL;
	for (i = 0; i < mv->count; i++) {
		if (strcasecmp(mv->fields[i].name, name) != 0)
			continue;
		if (!sieve_parray_grow(mv->pool, (void **)&c->idx, &alloc, n + 1, sizeof(*c->idx)))
			return NULL;
		c->idx[n++] = i;
	}
	c->count = n;
	mv->cache_count++;
	return c;
}

static bool field_decode(struct sieve_msgview *mv, struct sieve_hfield *h)
{
	size_t len;
	const char *d;

	if (h->dec.s != NULL)
		return true;
	/* Plain ASCII without "=?" needs no decoding. */
	if (memmem(h->raw.s, h->raw.len, "=?", 2) == NULL) {
		h->dec = h->raw;
		return true;
	}
	d = mv->ops->decode_header(mv->ctx, mv->pool, h->raw.s, h->raw.len, &len);
	if (d == NULL)
		return false;
	h->dec.s = d;
	h->dec.len = len;
	return true;
}

int sieve_msgview_get(struct sieve_msgview *mv, const char *name, bool decode,
		      struct sieve_str **vals_r)
{
	struct sieve_hcache *c;
	struct sieve_str *vals;
	unsigned int i;

	if (sieve_msgview_load(mv) < 0)
		return -1;
	c = cache_lookup(mv, name);
	if (c == NULL)
		return -1;
	if (c->count == 0) {
		*vals_r = NULL;
		return 0;
	}
	vals = p_malloc_array(mv->pool, c->count, sizeof(*vals));
	if (vals == NULL)
		return -1;
	for (i = 0; i < c->count; i++) {
		struct sieve_hfield *h = &mv->fields[c->idx[i]];

		if (decode) {
			if (!field_decode(mv, h))
				return -1;
			vals[i] = h->dec;
		} else {
			vals[i] = h->raw;
		}
	}
	*vals_r = vals;
	return (int)c->count;
}

static void cache_invalidate(struct sieve_msgview *mv)
{
	mv->cache_count = 0;
	mv->edited = true;
}

int sieve_msgview_add(struct sieve_msgview *mv, const char *name, const char *value,
		      size_t value_len, bool last)
{
	struct sieve_hfield *h;

	if (sieve_msgview_load(mv) < 0)
		return -1;
	if (!sieve_parray_grow(mv->pool, (void **)&mv->fields, &mv->alloc, mv->count + 1,
			       sizeof(*mv->fields)))
		return -1;
	if (last) {
		h = &mv->fields[mv->count];
	} else {
		memmove(&mv->fields[1], &mv->fields[0], mv->count * sizeof(*mv->fields));
		h = &mv->fields[0];
	}
	memset(h, 0, sizeof(*h));
	h->name = p_strdup(mv->pool, name);
	h->raw.s = p_strndup(mv->pool, value, value_len);
	h->raw.len = value_len;
	h->dec = h->raw;
	h->orig_index = -1;
	h->added_last = last;
	if (h->name == NULL || h->raw.s == NULL)
		return -1;
	mv->count++;
	cache_invalidate(mv);
	return 0;
}

/* Deletes field i (0-based in the current view). */
void sieve_msgview_delete(struct sieve_msgview *mv, unsigned int i)
{
	if (i >= mv->count)
		return;
	memmove(&mv->fields[i], &mv->fields[i + 1], (mv->count - i - 1) * sizeof(*mv->fields));
	mv->count--;
	cache_invalidate(mv);
}

/* Positions (in the current view) of the fields named name. */
int sieve_msgview_positions(struct sieve_msgview *mv, const char *name, const unsigned int **idx_r)
{
	struct sieve_hcache *c;

	if (sieve_msgview_load(mv) < 0)
		return -1;
	c = cache_lookup(mv, name);
	if (c == NULL)
		return -1;
	*idx_r = c->idx;
	return (int)c->count;
}

/* The decoded value of field i. */
bool sieve_msgview_decoded(struct sieve_msgview *mv, unsigned int i, struct sieve_str *out)
{
	if (i >= mv->count || !field_decode(mv, &mv->fields[i]))
		return false;
	*out = mv->fields[i].dec;
	return true;
}

int sieve_msgview_body_parts(struct sieve_msgview *mv, const struct sieve_body_part **parts_r,
			     size_t *count_r)
{
	if (!mv->parts_loaded) {
		if (mv->ops->get_body_parts == NULL ||
		    mv->ops->get_body_parts(mv->ctx, mv->pool, &mv->parts, &mv->parts_count) < 0)
			return -1;
		mv->parts_loaded = true;
	}
	*parts_r = mv->parts;
	*count_r = mv->parts_count;
	return 0;
}

int sieve_msgview_addresses(struct sieve_msgview *mv, const struct sieve_str *value,
			    const struct sieve_address **addrs_r, size_t *count_r, bool *invalid_r)
{
	struct sieve_addr_cache *c;
	struct sieve_address *addrs;
	unsigned int i;

	for (i = 0; i < mv->addr_cache_count; i++) {
		c = &mv->addr_cache[i];
		if (c->value == value->s) {
			*addrs_r = c->addrs;
			*count_r = c->count;
			*invalid_r = c->invalid;
			return 0;
		}
	}
	if (!sieve_parray_grow(mv->pool, (void **)&mv->addr_cache, &mv->addr_cache_alloc,
			       mv->addr_cache_count + 1, sizeof(*mv->addr_cache)))
		return -1;
	c = &mv->addr_cache[mv->addr_cache_count];
	memset(c, 0, sizeof(*c));
	if (mv->ops->parse_addresses(mv->ctx, mv->pool, value->s, value->len, &addrs, &c->count,
				     &c->invalid) < 0)
		return -1;
	c->value = value->s;
	c->addrs = addrs;
	mv->addr_cache_count++;
	*addrs_r = c->addrs;
	*count_r = c->count;
	*invalid_r = c->invalid;
	return 0;
}
