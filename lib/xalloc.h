/*
 * Allocation that cannot fail: on exhaustion the process logs
 * "Fatal: block_alloc(SIZE): Out of memory" and exits 83, which master turns
 * into advice about vsz_limit. Used by every process.
 */
#ifndef ROOST_XALLOC_H
#define ROOST_XALLOC_H

#include <stddef.h>

#include "compat.h"

void *i_malloc(size_t size);
/* Zero-filled; n * size is overflow-checked (overflow is fatal like OOM). */
void *i_calloc(size_t n, size_t size);
void *i_realloc(void *p, size_t size);
/* Grows an array of n elements of size bytes, overflow-checked. */
void *i_realloc_array(void *p, size_t n, size_t size);
char *i_strdup(const char *s);
char *i_strndup(const char *s, size_t n);
/* Same as i_strdup but NULL stays NULL. */
char *i_strdup_or_null(const char *s);

/* Frees and sets the pointer to NULL. */
#define I_FREE(p)           \
	do {                \
		free(p);    \
		(p) = NULL; \
	} while (0)

/* Logs the Dovecot-style out-of-memory line and exits 83. */
ATTR_NORETURN void fatal_oom(size_t size);

#endif
