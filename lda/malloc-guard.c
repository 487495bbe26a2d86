/*
 * roost-lda's allocator wrappers: malloc, calloc, realloc and free pass
 * straight to glibc's (__libc_malloc ...) while counting how deep the
 * process is inside them, so that the Sieve CPU-time backstop (filter.c)
 * never jumps out of the middle of a heap update. Linked into roost-lda
 * only (not liblda.a, which every program links); sanitizer builds keep
 * their own allocator and go without.
 */
#include <stddef.h>
#include <stdlib.h>

#include "lda.h"

#if !defined(__SANITIZE_ADDRESS__)

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

/* Leaving the allocator: a deferred backstop jump may happen now. */
#define GUARD_LEAVE()                                 \
	do {                                          \
		if (--lda_backstop_malloc_depth == 0) \
			lda_backstop_malloc_left();   \
	} while (0)

void *malloc(size_t size)
{
	void *p;

	lda_backstop_malloc_depth++;
	p = __libc_malloc(size);
	GUARD_LEAVE();
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p;

	lda_backstop_malloc_depth++;
	p = __libc_calloc(n, size);
	GUARD_LEAVE();
	return p;
}

void *realloc(void *old, size_t size)
{
	void *p;

	lda_backstop_malloc_depth++;
	p = __libc_realloc(old, size);
	GUARD_LEAVE();
	return p;
}

void free(void *p)
{
	lda_backstop_malloc_depth++;
	__libc_free(p);
	GUARD_LEAVE();
}

#endif
