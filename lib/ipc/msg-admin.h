/*
 * The roostadm <-> master channel on the admin socket (base_dir/admin,
 * root only): stop, reload, log reopen, who, kick, stats. master checks the
 * peer's uid with SO_PEERCRED before reading anything.
 */
#ifndef ROOST_MSG_ADMIN_H
#define ROOST_MSG_ADMIN_H

#include "ipc-codec.h"
#include "msg-policy.h"

#define ADMIN_SOCKET_NAME "admin"

enum admin_msg_type {
	/* roostadm -> master */
	ADMIN_STOP = 1,
	ADMIN_RELOAD = 2,
	ADMIN_LOG_REOPEN = 3,
	ADMIN_WHO = 4,
	ADMIN_KICK = 5,
	ADMIN_STATS = 6,
	/* master -> roostadm */
	ADMIN_WHO_ROW = 100,
	ADMIN_KICKED = 101,
	ADMIN_STATS_ROW = 102,
	ADMIN_DONE = 103, /* ends every request */
};

struct admin_request {
	char user_mask[POLICY_USER_MAX];
	char net[POLICY_IP_MAX];
};

struct admin_who_row {
	uint32_t pid;
	uint64_t start_time;
	char service[POLICY_SERVICE_MAX];
	char user[POLICY_USER_MAX];
	char ip[POLICY_IP_MAX];
};

struct admin_kicked {
	char user[POLICY_USER_MAX];
	uint32_t pid;
};

struct admin_stats_row {
	char name[POLICY_NAME_MAX];
	uint64_t value;
};

/* ADMIN_RELOAD: the new configuration does not parse (exit code 89). */
#define ADMIN_STATUS_CONFIG 89

struct admin_done {
	uint32_t status; /* 0 = done; otherwise an error with the message */
	char message[1024];
};

union admin_msg_any {
	struct admin_request request;
	struct admin_who_row who_row;
	struct admin_kicked kicked;
	struct admin_stats_row stats_row;
	struct admin_done done;
};

extern const struct ipc_channel admin_channel;
#define ADMIN_MSG(type) (ipc_channel_find(&admin_channel, (type)))

#endif
