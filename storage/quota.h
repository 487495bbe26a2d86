/*
 * Quota rules in Dovecot's quota_rule syntax ("*:storage=1G",
 * "*:messages=10000", "Trash:storage=+100M", "Spam:ignore") and the
 * over-quota decision before a save. Runs in roost-imap and roost-lda; rules
 * come from configuration or userdb extra fields and are parsed strictly.
 * Usage itself is summed from the mailbox indexes (mail_storage_quota_usage
 * in mailbox.h).
 */
#ifndef ROOST_QUOTA_H
#define ROOST_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox-error.h"

#define QUOTA_RULES_MAX	   64
#define QUOTA_RULE_LEN_MAX 512
/* Dovecot's default quota_exceeded_message. */
#define QUOTA_EXCEEDED_MESSAGE "Quota exceeded (mailbox for user is full)"

struct quota_rule {
	char *mailbox; /* NULL for the default rule "*" */
	bool ignore;   /* messages in this mailbox do not count */
	/* Limits: 0 = unlimited. A relative rule adds (or, percent, takes a
	   share of) the default limit. */
	bool has_bytes;
	bool has_messages;
	int64_t bytes;
	int64_t messages;
	bool bytes_relative;
	bool messages_relative;
	bool bytes_percent;
	bool messages_percent;
};

struct quota_rules {
	struct quota_rule *rules;
	size_t count;
};

struct quota_usage {
	uint64_t bytes;
	uint64_t messages;
};

/*
 * Parses one rule and adds it: "MAILBOX:KEY=VALUE[:KEY=VALUE]..." or
 * "MAILBOX:ignore". Keys: storage (KiB unless suffixed b/k/M/G/T), bytes
 * (bytes unless suffixed), messages; values may start with '+' or '-'
 * (relative to the default rule) or end in '%' (share of it). A rule for a
 * mailbox already present replaces it. MAILBOX_ERROR_PARAMS on bad syntax.
 */
bool quota_rules_add(struct quota_rules *rules, const char *rule, struct mailbox_error *err);
void quota_rules_free(struct quota_rules *rules);
bool quota_rules_empty(const struct quota_rules *rules);

/* Effective limits when saving into mailbox (0 = unlimited). */
void quota_rules_limits(const struct quota_rules *rules, const char *mailbox, uint64_t *bytes_r,
			uint64_t *messages_r);
/* Whether mailbox's messages are left out of the usage. */
bool quota_rules_ignored(const struct quota_rules *rules, const char *mailbox);

/*
 * Whether count messages totalling size bytes may be saved into mailbox
 * with the user's current usage. False with MAILBOX_ERROR_OVER_QUOTA and
 * QUOTA_EXCEEDED_MESSAGE when they would exceed a limit.
 */
bool quota_check(const struct quota_rules *rules, const char *mailbox,
		 const struct quota_usage *usage, uint64_t size, uint64_t count,
		 struct mailbox_error *err);

#endif
