/*
 * Arena pools (see pool.h): memory comes in blocks that are released
 * together. Used by parsers in any process; the byte limit is what bounds a
 * hostile input's memory, not the process's RLIMIT_AS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "xalloc.h"

#define POOL_BLOCK_MIN 4096
#define POOL_ALIGN     16

struct pool_block {
	struct pool_block *next;
	size_t size;
	size_t used;
	_Alignas(POOL_ALIGN) unsigned char data[];
};

struct pool {
	struct pool_block *blocks;
	size_t max_bytes;
	size_t used_bytes;
};

struct pool *pool_create(size_t max_bytes)
{
	struct pool *pool = i_calloc(1, sizeof(*pool));

	pool->max_bytes = max_bytes;
	return pool;
}

static void pool_free_blocks(struct pool_block *b)
{
	while (b != NULL) {
		struct pool_block *next = b->next;

		free(b);
		b = next;
	}
}

void pool_destroy(struct pool **pool)
{
	if (*pool == NULL)
		return;
	pool_free_blocks((*pool)->blocks);
	free(*pool);
	*pool = NULL;
}

void pool_clear(struct pool *pool)
{
	struct pool_block *first = pool->blocks;

	if (first == NULL)
		return;
	/* Keep the most recent block, drop the rest. */
	pool_free_blocks(first->next);
	first->next = NULL;
	first->used = 0;
	pool->used_bytes = 0;
}

size_t pool_used(const struct pool *pool)
{
	return pool->used_bytes;
}

void *p_malloc(struct pool *pool, size_t size)
{
	struct pool_block *b = pool->blocks;
	size_t asize;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - POOL_ALIGN)
		return NULL;
	asize = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (asize > pool->max_bytes - pool->used_bytes)
		return NULL;
	if (b == NULL || b->size - b->used < asize) {
		size_t bsize = b == NULL ? POOL_BLOCK_MIN : b->size * 2;

		if (bsize < asize)
			bsize = asize;
		if (bsize > 1024 * 1024 && asize <= 1024 * 1024)
			bsize = 1024 * 1024;
		b = i_malloc(sizeof(*b) + bsize);
		b->size = bsize;
		b->used = 0;
		b->next = pool->blocks;
		pool->blocks = b;
	}
	void *p = b->data + b->used;
	b->used += asize;
	pool->used_bytes += asize;
	memset(p, 0, size);
	return p;
}

void *p_malloc_array(struct pool *pool, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return p_malloc(pool, total);
}

void *p_realloc(struct pool *pool, void *old, size_t old_size, size_t new_size)
{
	void *p;

	if (new_size <= old_size)
		return old;
	p = p_malloc(pool, new_size);
	if (p != NULL && old != NULL)
		memcpy(p, old, old_size);
	return p;
}

char *p_strndup(struct pool *pool, const void *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = p_malloc(pool, n + 1);
	if (p != NULL && n > 0)
		memcpy(p, s, n);
	return p;
}

char *p_strdup(struct pool *pool, const char *s)
{
	return p_strndup(pool, s, strlen(s));
}

char *p_strdup_printf(struct pool *pool, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = p_malloc(pool, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
