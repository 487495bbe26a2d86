/*
 * Per-IP authentication failure penalties in roost-policy. Each failure
 * raises an IP's count; the extra delay doubles with the count up to a cap,
 * and the count halves for every decay period without failures. A success
 * does not reset it: one valid account must not unlock guessing at others.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "policy.h"
#include "xalloc.h"

struct penalty_record {
	unsigned int failures;
	uint64_t last_ms;
	struct penalty_record *prev, *next; /* oldest first, for eviction */
	char ip[POLICY_IP_MAX];
};

struct penalty {
	struct hash_table *by_ip;
	struct penalty_record *oldest, *newest;
	unsigned int max_msecs;
	unsigned int decay_msecs;
};

struct penalty *penalty_create(unsigned int max_msecs, unsigned int decay_msecs)
{
	struct penalty *p = i_calloc(1, sizeof(*p));

	p->by_ip = hash_create();
	p->max_msecs = max_msecs;
	p->decay_msecs = decay_msecs == 0 ? 1 : decay_msecs;
	return p;
}

void penalty_destroy(struct penalty **_p)
{
	struct penalty *p = *_p;

	if (p == NULL)
		return;
	*_p = NULL;
	while (p->oldest != NULL) {
		struct penalty_record *r = p->oldest;

		p->oldest = r->next;
		free(r);
	}
	hash_destroy(&p->by_ip);
	free(p);
}

static void list_unlink(struct penalty *p, struct penalty_record *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		p->oldest = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	else
		p->newest = r->prev;
	r->prev = r->next = NULL;
}

static void list_append(struct penalty *p, struct penalty_record *r)
{
	r->prev = p->newest;
	r->next = NULL;
	if (p->newest != NULL)
		p->newest->next = r;
	else
		p->oldest = r;
	p->newest = r;
}

static void record_remove(struct penalty *p, struct penalty_record *r)
{
	list_unlink(p, r);
	(void)hash_remove(p->by_ip, r->ip, strlen(r->ip));
	free(r);
}

/* The failure count after decay at now_ms. */
static unsigned int decayed(const struct penalty *p, const struct penalty_record *r,
			    uint64_t now_ms)
{
	uint64_t periods = now_ms > r->last_ms ? (now_ms - r->last_ms) / p->decay_msecs : 0;

	return periods >= 32 ? 0 : r->failures >> periods;
}

void penalty_failure(struct penalty *p, const char *ip, uint64_t now_ms)
{
	struct penalty_record *r = hash_get(p->by_ip, ip, strlen(ip));

	if (r == NULL) {
		if (hash_count(p->by_ip) >= PENALTY_MAX_IPS)
			record_remove(p, p->oldest);
		r = i_calloc(1, sizeof(*r));
		if (!str_copy(r->ip, sizeof(r->ip), ip)) {
			free(r);
			return;
		}
		(void)hash_set(p->by_ip, r->ip, strlen(r->ip), r);
	} else {
		r->failures = decayed(p, r, now_ms);
		list_unlink(p, r);
	}
	if (r->failures < 32)
		r->failures++;
	r->last_ms = now_ms;
	list_append(p, r);
}

unsigned int penalty_delay(struct penalty *p, const char *ip, uint64_t now_ms,
			   unsigned int *failures_r)
{
	struct penalty_record *r = hash_get(p->by_ip, ip, strlen(ip));
	unsigned int failures = r == NULL ? 0 : decayed(p, r, now_ms);
	uint64_t delay;

	*failures_r = failures;
	/* The first failure costs only auth_failure_delay; then 1, 2, 4 ... secs. */
	if (failures < 2)
		return 0;
	delay = failures - 2 >= 20 ? p->max_msecs : 1000ULL << (failures - 2);
	return delay > p->max_msecs ? p->max_msecs : (unsigned int)delay;
}

void penalty_expire(struct penalty *p, uint64_t now_ms)
{
	/* Oldest first: stop at the first record that still counts. */
	while (p->oldest != NULL && decayed(p, p->oldest, now_ms) == 0)
		record_remove(p, p->oldest);
}

unsigned int penalty_ip_count(const struct penalty *p)
{
	return (unsigned int)hash_count(p->by_ip);
}
