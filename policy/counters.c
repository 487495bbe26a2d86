/*
 * Named counters kept by roost-policy for `roostadm stats` and Munin:
 * logins and failures per protocol, sessions started, penalties applied,
 * plus what master reports (restarts, crashes). A fixed table: names come
 * from master and are few, but the table still refuses to grow past
 * COUNTERS_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "policy.h"
#include "xalloc.h"

struct counter {
	char name[POLICY_NAME_MAX];
	uint64_t value;
};

struct counters {
	struct counter items[COUNTERS_MAX];
	unsigned int count;
};

struct counters *counters_create(void)
{
	return i_calloc(1, sizeof(struct counters));
}

void counters_destroy(struct counters **c)
{
	I_FREE(*c);
}

static struct counter *counter_find(const struct counters *c, const char *name)
{
	for (unsigned int i = 0; i < c->count; i++) {
		if (strcmp(c->items[i].name, name) == 0)
			return (struct counter *)&c->items[i];
	}
	return NULL;
}

bool counters_add(struct counters *c, const char *name, uint64_t delta)
{
	struct counter *item = counter_find(c, name);

	if (item == NULL) {
		if (c->count == COUNTERS_MAX)
			return false;
		item = &c->items[c->count];
		if (!str_copy(item->name, sizeof(item->name), name))
			return false;
		c->count++;
		/* Keep the table sorted for stable output. */
		for (unsigned int i = c->count - 1;
		     i > 0 && strcmp(c->items[i - 1].name, c->items[i].name) > 0; i--) {
			struct counter tmp = c->items[i];

			c->items[i] = c->items[i - 1];
			c->items[i - 1] = tmp;
			item = &c->items[i - 1];
		}
	}
	item->value += delta;
	return true;
}

uint64_t counters_get(const struct counters *c, const char *name)
{
	const struct counter *item = counter_find(c, name);

	return item == NULL ? 0 : item->value;
}

void counters_foreach(const struct counters *c,
		      void (*cb)(void *ctx, const char *name, uint64_t value), void *ctx)
{
	for (unsigned int i = 0; i < c->count; i++)
		cb(ctx, c->items[i].name, c->items[i].value);
}
