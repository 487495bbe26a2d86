/*
 * Field tables of the roostadm <-> master channel (see msg-admin.h).
 */
#include "msg-admin.h"

#define S struct admin_request
static const struct ipc_field request_fields[] = {IPC_STR(S, user_mask), IPC_STR(S, net)};
#undef S
#define S struct admin_who_row
static const struct ipc_field who_row_fields[] = {
	IPC_U32(S, pid),  IPC_U64(S, start_time), IPC_STR(S, service),
	IPC_STR(S, user), IPC_STR(S, ip),
};
#undef S
#define S struct admin_kicked
static const struct ipc_field kicked_fields[] = {IPC_STR(S, user), IPC_U32(S, pid)};
#undef S
#define S struct admin_stats_row
static const struct ipc_field stats_row_fields[] = {IPC_STR(S, name), IPC_U64(S, value)};
#undef S
#define S struct admin_done
static const struct ipc_field done_fields[] = {IPC_U32(S, status), IPC_STR(S, message)};
#undef S

static const struct ipc_msg_def admin_msgs[] = {
	IPC_MSG(ADMIN_STOP, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_RELOAD, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_LOG_REOPEN, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_WHO, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_KICK, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_STATS, struct admin_request, request_fields, 0),
	IPC_MSG(ADMIN_WHO_ROW, struct admin_who_row, who_row_fields, 0),
	IPC_MSG(ADMIN_KICKED, struct admin_kicked, kicked_fields, 0),
	IPC_MSG(ADMIN_STATS_ROW, struct admin_stats_row, stats_row_fields, 0),
	IPC_MSG(ADMIN_DONE, struct admin_done, done_fields, 0),
};

const struct ipc_channel admin_channel = {"admin", admin_msgs, N_ELEMENTS(admin_msgs)};
