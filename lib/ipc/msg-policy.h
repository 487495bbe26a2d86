/*
 * The master <-> policy channel: session reservations under
 * mail_max_userip_connections, the live session registry behind
 * `roostadm who/kick`, per-IP authentication penalties and counters. Only
 * master talks to policy; master re-checks every pid policy names against
 * its own children before acting on it.
 */
#ifndef ROOST_MSG_POLICY_H
#define ROOST_MSG_POLICY_H

#include "ipc-codec.h"

#define POLICY_USER_MAX	   256
#define POLICY_IP_MAX	   64
#define POLICY_SERVICE_MAX 32
#define POLICY_NAME_MAX	   96

enum policy_msg_type {
	/* master -> policy */
	POLICY_RESERVE = 1, /* check user+IP count for a service and reserve */
	POLICY_ATTACH = 2,  /* the reserved session now has a pid */
	POLICY_END = 3,	    /* a session ended (or its spawn failed) */
	POLICY_RESTORE = 4, /* re-register a live session after policy restarted */
	POLICY_AUTH_RESULT = 5,
	POLICY_PENALTY_GET = 6,
	POLICY_LIST = 7,
	POLICY_STATS = 8,
	POLICY_COUNT = 9, /* add to a named counter */
	/* policy -> master */
	POLICY_RESERVE_REPLY = 100,
	POLICY_PENALTY_REPLY = 101,
	POLICY_LIST_ROW = 102,
	POLICY_LIST_END = 103,
	POLICY_STATS_ROW = 104,
	POLICY_STATS_END = 105,
};

struct policy_reserve {
	uint32_t req_id;
	uint64_t session_id;
	uint32_t limit; /* 0 = unlimited */
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
};

struct policy_reserve_reply {
	uint32_t req_id;
	uint8_t granted;
	uint32_t count; /* sessions of user+IP+service, this one included if granted */
};

struct policy_attach {
	uint64_t session_id;
	uint32_t pid;
};

struct policy_end {
	uint64_t session_id;
};

struct policy_restore {
	uint64_t session_id;
	uint32_t pid;
	uint64_t start_time;
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
};

struct policy_auth_result {
	char service[POLICY_SERVICE_MAX];
	char ip[POLICY_IP_MAX];
	uint8_t success;
	uint8_t tls;
};

struct policy_penalty_get {
	uint32_t req_id;
	char ip[POLICY_IP_MAX];
};

struct policy_penalty_reply {
	uint32_t req_id;
	uint32_t delay_msecs;
	uint32_t failures;
};

struct policy_list {
	uint32_t req_id;
	char user_mask[POLICY_USER_MAX]; /* "" = any; * and ? wildcards */
	char net[POLICY_IP_MAX];	 /* "" = any; IP or IP/bits */
};

struct policy_list_row {
	uint32_t req_id;
	uint64_t session_id;
	uint32_t pid;
	uint64_t start_time;
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
};

struct policy_list_end {
	uint32_t req_id;
	uint32_t count;
};

struct policy_stats {
	uint32_t req_id;
};

struct policy_stats_row {
	uint32_t req_id;
	char name[POLICY_NAME_MAX];
	uint64_t value;
};

struct policy_stats_end {
	uint32_t req_id;
};

struct policy_count {
	char name[POLICY_NAME_MAX];
	uint64_t delta;
};

union policy_msg_any {
	struct policy_reserve reserve;
	struct policy_reserve_reply reserve_reply;
	struct policy_attach attach;
	struct policy_end end;
	struct policy_restore restore;
	struct policy_auth_result auth_result;
	struct policy_penalty_get penalty_get;
	struct policy_penalty_reply penalty_reply;
	struct policy_list list;
	struct policy_list_row list_row;
	struct policy_list_end list_end;
	struct policy_stats stats;
	struct policy_stats_row stats_row;
	struct policy_stats_end stats_end;
	struct policy_count count;
};

extern const struct ipc_channel policy_channel;
#define POLICY_MSG(type) (ipc_channel_find(&policy_channel, (type)))

#endif
