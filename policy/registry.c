/*
 * The live session registry of roost-policy: sessions by id, and counts by
 * (service, user, IP) so that the mail_max_userip_connections check is one
 * lookup. Runs in the sandboxed policy process.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "net.h"
#include "policy.h"
#include "xalloc.h"

struct registry {
	struct hash_table *by_id;	/* session id -> struct policy_session */
	struct hash_table *counts;	/* "service\0user\0ip" -> (uintptr_t) count */
	struct hash_table *per_service; /* service -> (uintptr_t) count */
};

struct registry *registry_create(void)
{
	struct registry *reg = i_calloc(1, sizeof(*reg));

	reg->by_id = hash_create();
	reg->counts = hash_create();
	reg->per_service = hash_create();
	return reg;
}

static void free_session(void *ctx, const void *key, size_t key_len, void *value)
{
	(void)ctx;
	(void)key;
	(void)key_len;
	free(value);
}

void registry_destroy(struct registry **_reg)
{
	struct registry *reg = *_reg;

	if (reg == NULL)
		return;
	*_reg = NULL;
	hash_foreach(reg->by_id, free_session, NULL);
	hash_destroy(&reg->by_id);
	hash_destroy(&reg->counts);
	hash_destroy(&reg->per_service);
	free(reg);
}

/* Builds the (service, user, ip) key; returns its length. */
static size_t count_key(struct buf *key, const char *service, const char *user, const char *ip)
{
	buf_reset(key);
	(void)buf_append(key, service, strlen(service) + 1);
	(void)buf_append(key, user, strlen(user) + 1);
	(void)buf_append(key, ip, strlen(ip));
	return buf_len(key);
}

static unsigned int adjust(struct hash_table *t, const void *key, size_t len, int delta)
{
	uintptr_t n = (uintptr_t)hash_get(t, key, len);

	n = delta < 0 ? (n > 0 ? n - 1 : 0) : n + 1;
	if (n == 0)
		(void)hash_remove(t, key, len);
	else
		(void)hash_set(t, key, len, (void *)n);
	return (unsigned int)n;
}

static bool registry_add(struct registry *reg, const struct policy_session *s,
			 unsigned int *count_r)
{
	struct buf key = BUF_INIT(POLICY_SERVICE_MAX + POLICY_USER_MAX + POLICY_IP_MAX + 2);
	struct policy_session *copy;

	if (hash_get(reg->by_id, &s->id, sizeof(s->id)) != NULL ||
	    hash_count(reg->by_id) >= REGISTRY_MAX_SESSIONS) {
		buf_free(&key);
		return false;
	}
	copy = i_malloc(sizeof(*copy));
	*copy = *s;
	(void)hash_set(reg->by_id, &copy->id, sizeof(copy->id), copy);
	*count_r =
		adjust(reg->counts, buf_data(&key), count_key(&key, s->service, s->user, s->ip), 1);
	(void)adjust(reg->per_service, s->service, strlen(s->service), 1);
	buf_free(&key);
	return true;
}

bool registry_reserve(struct registry *reg, uint64_t id, const char *service, const char *user,
		      const char *ip, unsigned int limit, uint64_t now, unsigned int *count_r)
{
	struct buf key = BUF_INIT(POLICY_SERVICE_MAX + POLICY_USER_MAX + POLICY_IP_MAX + 2);
	struct policy_session s = {.id = id, .start_time = now};
	uintptr_t current;

	current = (uintptr_t)hash_get(reg->counts, buf_data(&key),
				      count_key(&key, service, user, ip));
	buf_free(&key);
	*count_r = (unsigned int)current;
	if (limit != 0 && current >= limit)
		return false;
	if (!str_copy(s.service, sizeof(s.service), service) ||
	    !str_copy(s.user, sizeof(s.user), user) || !str_copy(s.ip, sizeof(s.ip), ip))
		return false;
	return registry_add(reg, &s, count_r);
}

bool registry_restore(struct registry *reg, const struct policy_session *s)
{
	unsigned int count;

	return registry_add(reg, s, &count);
}

bool registry_attach(struct registry *reg, uint64_t id, pid_t pid)
{
	struct policy_session *s = hash_get(reg->by_id, &id, sizeof(id));

	if (s == NULL)
		return false;
	s->pid = pid;
	return true;
}

bool registry_end(struct registry *reg, uint64_t id)
{
	struct buf key = BUF_INIT(POLICY_SERVICE_MAX + POLICY_USER_MAX + POLICY_IP_MAX + 2);
	struct policy_session *s = hash_remove(reg->by_id, &id, sizeof(id));

	if (s == NULL) {
		buf_free(&key);
		return false;
	}
	(void)adjust(reg->counts, buf_data(&key), count_key(&key, s->service, s->user, s->ip), -1);
	(void)adjust(reg->per_service, s->service, strlen(s->service), -1);
	buf_free(&key);
	free(s);
	return true;
}

unsigned int registry_count(const struct registry *reg, const char *service)
{
	if (service == NULL)
		return (unsigned int)hash_count(reg->by_id);
	return (unsigned int)(uintptr_t)hash_get(reg->per_service, service, strlen(service));
}

struct foreach_ctx {
	const char *user_mask;
	struct net_ip net;
	unsigned int bits;
	bool any_net;
	unsigned int matches;
	void (*cb)(void *ctx, const struct policy_session *s);
	void *ctx;
};

static void foreach_one(void *_ctx, const void *key, size_t key_len, void *value)
{
	struct foreach_ctx *ctx = _ctx;
	const struct policy_session *s = value;
	struct net_ip ip;

	(void)key;
	(void)key_len;
	if (ctx->user_mask[0] != '\0' && !wildcard_match(ctx->user_mask, s->user))
		return;
	if (!ctx->any_net &&
	    (!net_ip_parse(s->ip, &ip) || !net_ip_in_cidr(&ip, &ctx->net, ctx->bits)))
		return;
	ctx->matches++;
	ctx->cb(ctx->ctx, s);
}

unsigned int registry_foreach(const struct registry *reg, const char *user_mask, const char *net,
			      void (*cb)(void *ctx, const struct policy_session *s), void *cbctx)
{
	struct foreach_ctx ctx = {.user_mask = user_mask, .cb = cb, .ctx = cbctx};

	ctx.any_net = net[0] == '\0';
	if (!ctx.any_net && !net_cidr_parse(net, &ctx.net, &ctx.bits))
		return 0;
	hash_foreach(reg->by_id, foreach_one, &ctx);
	return ctx.matches;
}
