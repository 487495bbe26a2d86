/*
 * Arena allocation for parse trees (MIME structures, Sieve scripts, IMAP
 * commands): many small allocations freed together. A pool has a hard byte
 * limit; exceeding it returns NULL so a parser can turn it into a clean
 * protocol error instead of exhausting the process.
 */
#ifndef ROOST_POOL_H
#define ROOST_POOL_H

#include <stdarg.h>
#include <stddef.h>

#include "compat.h"

struct pool;

/* Creates a pool that refuses to hand out more than max_bytes in total. */
struct pool *pool_create(size_t max_bytes);
/* Frees every allocation of the pool and sets *pool to NULL. */
void pool_destroy(struct pool **pool);
/* Frees every allocation but keeps the pool (and its first block) for reuse. */
void pool_clear(struct pool *pool);
/* Bytes handed out so far. */
size_t pool_used(const struct pool *pool);

/*
 * Zero-filled, 16-byte aligned memory owned by the pool; NULL when the pool's
 * limit would be exceeded (host memory exhaustion is fatal, exit 83).
 */
void *p_malloc(struct pool *pool, size_t size);
void *p_malloc_array(struct pool *pool, size_t n, size_t size);
/* Grows an allocation made from this pool; old contents are copied. */
void *p_realloc(struct pool *pool, void *old, size_t old_size, size_t new_size);
char *p_strdup(struct pool *pool, const char *s);
/* Copies n bytes and adds a NUL; the copy may contain NULs. */
char *p_strndup(struct pool *pool, const void *s, size_t n);
char *p_strdup_printf(struct pool *pool, const char *fmt, ...) ATTR_PRINTF(2, 3);

#endif
