/*
 * A small chained hash table keyed by byte strings, for registries that
 * must stay fast with many entries (policy's sessions and per-IP records,
 * master's processes). Keys are copied; values are the caller's pointers.
 */
#ifndef ROOST_HASH_H
#define ROOST_HASH_H

#include <stdbool.h>
#include <stddef.h>

struct hash_table;

struct hash_table *hash_create(void);
/* Frees the table and its key copies, not the values; *table becomes NULL. */
void hash_destroy(struct hash_table **table);
size_t hash_count(const struct hash_table *table);

/* Inserts or replaces; returns the previous value or NULL. */
void *hash_set(struct hash_table *table, const void *key, size_t key_len, void *value);
void *hash_get(const struct hash_table *table, const void *key, size_t key_len);
/* Removes the key; returns its value or NULL when absent. */
void *hash_remove(struct hash_table *table, const void *key, size_t key_len);

/* Calls cb for every entry; cb must not modify the table. */
void hash_foreach(const struct hash_table *table,
		  void (*cb)(void *ctx, const void *key, size_t key_len, void *value), void *ctx);

#endif
