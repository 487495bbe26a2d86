/*
 * Quota rule parsing and checks (see quota.h). Runs in the mail processes;
 * rule strings are configuration but still parsed with limits and
 * overflow checks.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mailbox-name.h"
#include "quota.h"
#include "xalloc.h"

#define LIMIT_MAX (1LL << 60)

static bool parse_value(const char *v, bool size, uint64_t default_unit, int64_t *value_r,
			bool *relative_r, bool *percent_r)
{
	bool neg = false;
	uint64_t n = 0, mult = default_unit;
	const char *p = v;

	*relative_r = false;
	*percent_r = false;
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		*relative_r = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > (uint64_t)LIMIT_MAX)
			return false;
		p++;
	}
	if (*p == '%') {
		*percent_r = true;
		mult = 1;
		p++;
	} else if (size && *p != '\0') {
		switch (*p) {
		case 'b':
		case 'B':
			mult = 1;
			break;
		case 'k':
		case 'K':
			mult = 1024ULL;
			break;
		case 'M':
		case 'm':
			mult = 1024ULL * 1024;
			break;
		case 'G':
		case 'g':
			mult = 1024ULL * 1024 * 1024;
			break;
		case 'T':
		case 't':
			mult = 1024ULL * 1024 * 1024 * 1024;
			break;
		default:
			return false;
		}
		p++;
		if (*p == 'B' || *p == 'b')
			p++;
	}
	if (*p != '\0' || (mult != 0 && n > (uint64_t)LIMIT_MAX / mult))
		return false;
	*value_r = (int64_t)(n * mult) * (neg ? -1 : 1);
	return true;
}

static void rule_free(struct quota_rule *rule)
{
	free(rule->mailbox);
	memset(rule, 0, sizeof(*rule));
}

bool quota_rules_add(struct quota_rules *rules, const char *rule, struct mailbox_error *err)
{
	struct quota_rule r;
	const char *colon;
	char buf[QUOTA_RULE_LEN_MAX + 1];
	char *p, *next;

	memset(&r, 0, sizeof(r));
	if (strlen(rule) > QUOTA_RULE_LEN_MAX)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "quota_rule too long");
	colon = strchr(rule, ':');
	if (colon == NULL || colon == rule)
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "quota_rule %.64s: expected MAILBOX:KEY=VALUE", rule);
	if (!(colon - rule == 1 && rule[0] == '*'))
		r.mailbox = i_strndup(rule, (size_t)(colon - rule));
	str_copy(buf, sizeof(buf), colon + 1);
	for (p = buf; p != NULL; p = next) {
		char *eq;
		bool rel, pct;
		int64_t v;

		next = strchr(p, ':');
		if (next != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue;
		if (strcasecmp(p, "ignore") == 0) {
			r.ignore = true;
			continue;
		}
		eq = strchr(p, '=');
		if (eq == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcasecmp(p, "storage") == 0 || strcasecmp(p, "bytes") == 0) {
			bool kib = strcasecmp(p, "storage") == 0;

			if (!parse_value(eq, true, kib ? 1024 : 1, &v, &rel, &pct))
				goto bad;
			r.has_bytes = true;
			r.bytes = v;
			r.bytes_relative = rel;
			r.bytes_percent = pct;
		} else if (strcasecmp(p, "messages") == 0) {
			if (!parse_value(eq, false, 1, &v, &rel, &pct))
				goto bad;
			r.has_messages = true;
			r.messages = v;
			r.messages_relative = rel;
			r.messages_percent = pct;
		} else if (strcasecmp(p, "backend") == 0) {
			/* Dovecot's backend-specific limit: nothing to do here. */
		} else {
			rule_free(&r);
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "quota_rule %.64s: unknown key %.32s", rule, p);
		}
	}
	if (r.mailbox == NULL &&
	    (r.bytes_relative || r.messages_relative || r.bytes_percent || r.messages_percent)) {
		rule_free(&r);
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "quota_rule %.64s: the default rule cannot be relative",
					 rule);
	}
	for (size_t i = 0; i < rules->count; i++) {
		struct quota_rule *old = &rules->rules[i];

		if ((old->mailbox == NULL && r.mailbox == NULL) ||
		    (old->mailbox != NULL && r.mailbox != NULL &&
		     strcmp(old->mailbox, r.mailbox) == 0)) {
			/* A second rule for the same mailbox changes only the
			   limits it names (quota_rule = *:storage=1G and
			   quota_rule2 = *:messages=1000 give both), as Dovecot. */
			if (r.has_bytes) {
				old->has_bytes = true;
				old->bytes = r.bytes;
				old->bytes_relative = r.bytes_relative;
				old->bytes_percent = r.bytes_percent;
			}
			if (r.has_messages) {
				old->has_messages = true;
				old->messages = r.messages;
				old->messages_relative = r.messages_relative;
				old->messages_percent = r.messages_percent;
			}
			old->ignore = old->ignore || r.ignore;
			rule_free(&r);
			return true;
		}
	}
	if (rules->count >= QUOTA_RULES_MAX) {
		rule_free(&r);
		return mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "too many quota rules");
	}
	rules->rules = i_realloc_array(rules->rules, rules->count + 1, sizeof(*rules->rules));
	rules->rules[rules->count++] = r;
	return true;
bad:
	rule_free(&r);
	return mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "quota_rule %.64s: invalid value",
				 rule);
}

void quota_rules_free(struct quota_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++)
		rule_free(&rules->rules[i]);
	free(rules->rules);
	rules->rules = NULL;
	rules->count = 0;
}

bool quota_rules_empty(const struct quota_rules *rules)
{
	return rules->count == 0;
}

static const struct quota_rule *find_rule(const struct quota_rules *rules, const char *mailbox)
{
	for (size_t i = 0; i < rules->count; i++) {
		const char *m = rules->rules[i].mailbox;

		if (m == NULL || mailbox == NULL)
			continue;
		if (strcmp(m, mailbox) == 0 ||
		    (mailbox_name_is_inbox(m) && mailbox_name_is_inbox(mailbox)))
			return &rules->rules[i];
	}
	return NULL;
}

static uint64_t apply(int64_t base, bool has, int64_t v, bool rel, bool pct)
{
	int64_t r;

	if (!has)
		return base < 0 ? 0 : (uint64_t)base;
	if (!rel && !pct)
		return v < 0 ? 0 : (uint64_t)v;
	if (base == 0)
		return 0; /* relative to "unlimited" stays unlimited */
	if (pct)
		v = base / 100 * v + base % 100 * v / 100;
	r = rel ? base + v : v;
	return r < 1 ? 1 : (uint64_t)r;
}

void quota_rules_limits(const struct quota_rules *rules, const char *mailbox, uint64_t *bytes_r,
			uint64_t *messages_r)
{
	const struct quota_rule *def = NULL, *mr;
	int64_t bytes = 0, msgs = 0;

	for (size_t i = 0; i < rules->count; i++) {
		if (rules->rules[i].mailbox == NULL)
			def = &rules->rules[i];
	}
	if (def != NULL) {
		bytes = def->has_bytes ? def->bytes : 0;
		msgs = def->has_messages ? def->messages : 0;
	}
	mr = find_rule(rules, mailbox);
	*bytes_r = mr == NULL ? (uint64_t)bytes
			      : apply(bytes, mr->has_bytes, mr->bytes, mr->bytes_relative,
				      mr->bytes_percent);
	*messages_r = mr == NULL ? (uint64_t)msgs
				 : apply(msgs, mr->has_messages, mr->messages,
					 mr->messages_relative, mr->messages_percent);
}

bool quota_rules_ignored(const struct quota_rules *rules, const char *mailbox)
{
	const struct quota_rule *r = find_rule(rules, mailbox);

	return r != NULL && r->ignore;
}

bool quota_check(const struct quota_rules *rules, const char *mailbox,
		 const struct quota_usage *usage, uint64_t size, uint64_t count,
		 struct mailbox_error *err)
{
	uint64_t max_bytes, max_msgs;

	if (quota_rules_ignored(rules, mailbox))
		return true;
	quota_rules_limits(rules, mailbox, &max_bytes, &max_msgs);
	if ((max_bytes != 0 && (usage->bytes + size > max_bytes || usage->bytes + size < size)) ||
	    (max_msgs != 0 && usage->messages + count > max_msgs))
		return mailbox_error_set(err, MAILBOX_ERROR_OVER_QUOTA, "%s",
					 QUOTA_EXCEEDED_MESSAGE);
	return true;
}
