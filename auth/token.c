/*
 * One-time login tokens of roost-auth: random, bound to the user, the
 * login process, the service and the client IP, valid once and for a few
 * seconds. master redeems them; a login process can neither forge one nor
 * use one issued to another process.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth.h"
#include "hash.h"
#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

#define TOKEN_MAX	  200000
#define TOKEN_SWEEP_MSECS (5 * 1000)

struct token {
	uint8_t value[AUTH_TOKEN_SIZE];
	uint64_t expires_ms;
	uint32_t login_pid;
	char service[POLICY_SERVICE_MAX];
	char rip[POLICY_IP_MAX];
	char user[POLICY_USER_MAX];
};

static struct hash_table *tokens;
static unsigned int token_lifetime_msecs;
static struct timeout *sweep_to;

static void token_free(struct token *t)
{
	explicit_bzero(t, sizeof(*t));
	free(t);
}

struct sweep_ctx {
	uint64_t now;
	struct token *expired[256];
	unsigned int count;
};

static void sweep_one(void *ctx, const void *key, size_t key_len, void *value)
{
	struct sweep_ctx *s = ctx;
	struct token *t = value;

	(void)key;
	(void)key_len;
	if (t->expires_ms <= s->now && s->count < N_ELEMENTS(s->expired))
		s->expired[s->count++] = t;
}

static void tokens_sweep(void *ctx)
{
	struct sweep_ctx s;

	(void)ctx;
	do {
		memset(&s, 0, sizeof(s));
		s.now = ioloop_now_ms();
		hash_foreach(tokens, sweep_one, &s);
		for (unsigned int i = 0; i < s.count; i++) {
			(void)hash_remove(tokens, s.expired[i]->value, AUTH_TOKEN_SIZE);
			token_free(s.expired[i]);
		}
	} while (s.count == N_ELEMENTS(s.expired));
}

void auth_tokens_init(unsigned int lifetime_msecs)
{
	token_lifetime_msecs = lifetime_msecs;
	tokens = hash_create();
	sweep_to = timeout_add_repeat(TOKEN_SWEEP_MSECS, tokens_sweep, NULL);
}

bool auth_token_create(const char *user, uint32_t login_pid, const char *service, const char *rip,
		       uint8_t token_r[AUTH_TOKEN_SIZE])
{
	struct token *t;

	if (hash_count(tokens) >= TOKEN_MAX) {
		tokens_sweep(NULL);
		if (hash_count(tokens) >= TOKEN_MAX) {
			log_error("Too many unredeemed login tokens (%u): is master stuck?",
				  TOKEN_MAX);
			return false;
		}
	}
	t = i_calloc(1, sizeof(*t));
	if (getrandom(t->value, sizeof(t->value), 0) != (ssize_t)sizeof(t->value)) {
		log_error("getrandom() failed: %m");
		free(t);
		return false;
	}
	t->expires_ms = ioloop_now_ms() + token_lifetime_msecs;
	t->login_pid = login_pid;
	(void)str_copy(t->service, sizeof(t->service), service);
	(void)str_copy(t->rip, sizeof(t->rip), rip);
	(void)str_copy(t->user, sizeof(t->user), user);
	(void)hash_set(tokens, t->value, AUTH_TOKEN_SIZE, t);
	memcpy(token_r, t->value, AUTH_TOKEN_SIZE);
	return true;
}

bool auth_token_redeem(const uint8_t *token, size_t len, uint32_t login_pid, const char *service,
		       const char *rip, char *user_r, size_t user_size)
{
	struct token *t;
	bool ok;

	if (len != AUTH_TOKEN_SIZE)
		return false;
	/* Single use: removed whatever the outcome. */
	t = hash_remove(tokens, token, len);
	if (t == NULL)
		return false;
	ok = t->expires_ms > ioloop_now_ms() && t->login_pid == login_pid &&
	     strcmp(t->service, service) == 0 && strcmp(t->rip, rip) == 0;
	if (!ok)
		log_warning("Refused a login token for %s: %s", t->user,
			    t->expires_ms <= ioloop_now_ms()
				    ? "expired"
				    : "presented by another login process, "
				      "service or IP");
	else
		(void)str_copy(user_r, user_size, t->user);
	token_free(t);
	return ok;
}
