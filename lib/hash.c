/*
 * Chained hash table (see hash.h) with a keyed hash (SipHash-like mixing
 * seeded at random per table), so that remote peers choosing keys (user
 * names, IPs) cannot force collisions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hash.h"
#include "xalloc.h"

struct hash_entry {
	struct hash_entry *next;
	uint64_t hash;
	void *value;
	size_t key_len;
	unsigned char key[];
};

struct hash_table {
	struct hash_entry **buckets;
	size_t bucket_count;
	size_t count;
	uint64_t seed[2];
};

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = rotl(v1, 13); \
		v1 ^= v0;          \
		v0 = rotl(v0, 32); \
		v2 += v3;          \
		v3 = rotl(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = rotl(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = rotl(v1, 17); \
		v1 ^= v2;          \
		v2 = rotl(v2, 32); \
	} while (0)

/* SipHash-1-3. */
static uint64_t hash_bytes(const uint64_t seed[2], const unsigned char *p, size_t len)
{
	uint64_t v0 = seed[0] ^ 0x736f6d6570736575ULL, v1 = seed[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = seed[0] ^ 0x6c7967656e657261ULL, v3 = seed[1] ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

struct hash_table *hash_create(void)
{
	struct hash_table *t = i_calloc(1, sizeof(*t));

	t->bucket_count = 64;
	t->buckets = i_calloc(t->bucket_count, sizeof(*t->buckets));
	if (getrandom(t->seed, sizeof(t->seed), 0) != sizeof(t->seed)) {
		/* Without entropy, fall back to an address-derived seed. */
		t->seed[0] = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
		t->seed[1] = (uint64_t)(uintptr_t)t->buckets;
	}
	return t;
}

void hash_destroy(struct hash_table **_t)
{
	struct hash_table *t = *_t;

	if (t == NULL)
		return;
	*_t = NULL;
	for (size_t i = 0; i < t->bucket_count; i++) {
		struct hash_entry *e = t->buckets[i];

		while (e != NULL) {
			struct hash_entry *next = e->next;

			free(e);
			e = next;
		}
	}
	free(t->buckets);
	free(t);
}

size_t hash_count(const struct hash_table *t)
{
	return t->count;
}

static void hash_grow(struct hash_table *t)
{
	size_t new_count = t->bucket_count * 2;
	struct hash_entry **nb = i_calloc(new_count, sizeof(*nb));

	for (size_t i = 0; i < t->bucket_count; i++) {
		struct hash_entry *e = t->buckets[i];

		while (e != NULL) {
			struct hash_entry *next = e->next;
			size_t idx = e->hash & (new_count - 1);

			e->next = nb[idx];
			nb[idx] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->bucket_count = new_count;
}

static struct hash_entry **hash_find(const struct hash_table *t, const void *key, size_t len,
				     uint64_t h)
{
	struct hash_entry **e = &t->buckets[h & (t->bucket_count - 1)];

	for (; *e != NULL; e = &(*e)->next) {
		if ((*e)->hash == h && (*e)->key_len == len && memcmp((*e)->key, key, len) == 0)
			return e;
	}
	return e;
}

void *hash_set(struct hash_table *t, const void *key, size_t len, void *value)
{
	uint64_t h = hash_bytes(t->seed, key, len);
	struct hash_entry **slot = hash_find(t, key, len, h), *e;

	if (*slot != NULL) {
		void *old = (*slot)->value;

		(*slot)->value = value;
		return old;
	}
	e = i_malloc(sizeof(*e) + len);
	e->hash = h;
	e->value = value;
	e->key_len = len;
	memcpy(e->key, key, len);
	e->next = NULL;
	*slot = e;
	if (++t->count > t->bucket_count)
		hash_grow(t);
	return NULL;
}

void *hash_get(const struct hash_table *t, const void *key, size_t len)
{
	struct hash_entry **slot = hash_find(t, key, len, hash_bytes(t->seed, key, len));

	return *slot == NULL ? NULL : (*slot)->value;
}

void *hash_remove(struct hash_table *t, const void *key, size_t len)
{
	struct hash_entry **slot = hash_find(t, key, len, hash_bytes(t->seed, key, len));
	struct hash_entry *e = *slot;
	void *value;

	if (e == NULL)
		return NULL;
	*slot = e->next;
	value = e->value;
	free(e);
	t->count--;
	return value;
}

void hash_foreach(const struct hash_table *t,
		  void (*cb)(void *ctx, const void *key, size_t key_len, void *value), void *ctx)
{
	for (size_t i = 0; i < t->bucket_count; i++) {
		for (struct hash_entry *e = t->buckets[i]; e != NULL; e = e->next)
			cb(ctx, e->key, e->key_len, e->value);
	}
}
