/*
 * Allocation wrappers for every roost process. An allocation failure is an
 * environment problem (usually RLIMIT_AS from vsz_limit), reported with exit
 * code 83 so that master can name the setting to raise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

void fatal_oom(size_t size)
{
	log_fatal_code(EXIT_OUT_OF_MEMORY, "block_alloc(%zu): Out of memory", size);
}

void *i_malloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		fatal_oom(size);
	return p;
}

void *i_calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		fatal_oom(SIZE_MAX);
	void *p = calloc(1, total == 0 ? 1 : total);
	if (p == NULL)
		fatal_oom(total);
	return p;
}

void *i_realloc(void *p, size_t size)
{
	void *np = realloc(p, size == 0 ? 1 : size);

	if (np == NULL)
		fatal_oom(size);
	return np;
}

void *i_realloc_array(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		fatal_oom(SIZE_MAX);
	return i_realloc(p, total);
}

char *i_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = i_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *i_strdup(const char *s)
{
	return i_strndup(s, SIZE_MAX - 1);
}

char *i_strdup_or_null(const char *s)
{
	return s == NULL ? NULL : i_strdup(s);
}
