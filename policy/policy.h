/*
 * roost-policy's state: the live session registry, per-IP authentication
 * penalties and counters. Everything here is fed by master only, but the
 * strings (user names, IPs) originally came from remote peers, so every
 * structure is bounded.
 */
#ifndef ROOST_POLICY_H
#define ROOST_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/msg-policy.h"

/* Hard caps so that a flood cannot grow policy without bound. */
#define REGISTRY_MAX_SESSIONS 1000000
#define PENALTY_MAX_IPS	      100000
#define COUNTERS_MAX	      512

struct policy_session {
	uint64_t id;
	pid_t pid; /* 0 until attached */
	uint64_t start_time;
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
};

struct registry;

struct registry *registry_create(void);
void registry_destroy(struct registry **reg);
/*
 * Atomically checks and reserves: if user+ip has fewer than limit sessions
 * of service (limit 0 = unlimited), adds session id and returns true.
 * *count_r is the number of such sessions afterwards (or the current one
 * when refused). A duplicate id or a full registry is refused too.
 */
bool registry_reserve(struct registry *reg, uint64_t id, const char *service, const char *user,
		      const char *ip, unsigned int limit, uint64_t now, unsigned int *count_r);
/* Adds a session without a limit check (after policy restarted). */
bool registry_restore(struct registry *reg, const struct policy_session *s);
bool registry_attach(struct registry *reg, uint64_t id, pid_t pid);
/* Removes a session; false if it was unknown. */
bool registry_end(struct registry *reg, uint64_t id);
/* Sessions of a service now (all services when service is NULL). */
unsigned int registry_count(const struct registry *reg, const char *service);
/*
 * Calls cb for each session whose user matches user_mask (wildcards, ""
 * = any) and whose IP is inside net ("" = any). Returns the number of
 * matches; false-y filters that do not parse match nothing.
 */
unsigned int registry_foreach(const struct registry *reg, const char *user_mask, const char *net,
			      void (*cb)(void *ctx, const struct policy_session *s), void *ctx);

struct penalty;

/* max_msecs caps the delay; decay_msecs halves the failure count. */
struct penalty *penalty_create(unsigned int max_msecs, unsigned int decay_msecs);
void penalty_destroy(struct penalty **p);
void penalty_failure(struct penalty *p, const char *ip, uint64_t now_ms);
/* Extra delay to impose on the next login attempt from ip. */
unsigned int penalty_delay(struct penalty *p, const char *ip, uint64_t now_ms,
			   unsigned int *failures_r);
/* Forgets records that have decayed to nothing. */
void penalty_expire(struct penalty *p, uint64_t now_ms);
unsigned int penalty_ip_count(const struct penalty *p);

struct counters;

struct counters *counters_create(void);
void counters_destroy(struct counters **c);
/* Adds delta to a named counter, creating it; false when the table is full. */
bool counters_add(struct counters *c, const char *name, uint64_t delta);
uint64_t counters_get(const struct counters *c, const char *name);
void counters_foreach(const struct counters *c,
		      void (*cb)(void *ctx, const char *name, uint64_t value), void *ctx);

#endif
