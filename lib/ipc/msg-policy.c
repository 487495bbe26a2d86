/*
 * Field tables of the master <-> policy channel (see msg-policy.h).
 */
#include "msg-policy.h"

#define S struct policy_reserve
static const struct ipc_field reserve_fields[] = {
	IPC_U32(S, req_id),  IPC_U64(S, session_id), IPC_U32(S, limit),
	IPC_STR(S, service), IPC_STR(S, user),	     IPC_STR(S, ip),
};
#undef S
#define S struct policy_reserve_reply
static const struct ipc_field reserve_reply_fields[] = {
	IPC_U32(S, req_id),
	IPC_U8(S, granted),
	IPC_U32(S, count),
};
#undef S
#define S struct policy_attach
static const struct ipc_field attach_fields[] = {IPC_U64(S, session_id), IPC_U32(S, pid)};
#undef S
#define S struct policy_end
static const struct ipc_field end_fields[] = {IPC_U64(S, session_id)};
#undef S
#define S struct policy_restore
static const struct ipc_field restore_fields[] = {
	IPC_U64(S, session_id), IPC_U32(S, pid),  IPC_U64(S, start_time),
	IPC_STR(S, service),	IPC_STR(S, user), IPC_STR(S, ip),
};
#undef S
#define S struct policy_auth_result
static const struct ipc_field auth_result_fields[] = {
	IPC_STR(S, service),
	IPC_STR(S, ip),
	IPC_U8(S, success),
	IPC_U8(S, tls),
};
#undef S
#define S struct policy_penalty_get
static const struct ipc_field penalty_get_fields[] = {IPC_U32(S, req_id), IPC_STR(S, ip)};
#undef S
#define S struct policy_penalty_reply
static const struct ipc_field penalty_reply_fields[] = {
	IPC_U32(S, req_id),
	IPC_U32(S, delay_msecs),
	IPC_U32(S, failures),
};
#undef S
#define S struct policy_list
static const struct ipc_field list_fields[] = {
	IPC_U32(S, req_id),
	IPC_STR(S, user_mask),
	IPC_STR(S, net),
};
#undef S
#define S struct policy_list_row
static const struct ipc_field list_row_fields[] = {
	IPC_U32(S, req_id),  IPC_U64(S, session_id), IPC_U32(S, pid), IPC_U64(S, start_time),
	IPC_STR(S, service), IPC_STR(S, user),	     IPC_STR(S, ip),
};
#undef S
#define S struct policy_list_end
static const struct ipc_field list_end_fields[] = {IPC_U32(S, req_id), IPC_U32(S, count)};
#undef S
#define S struct policy_stats
static const struct ipc_field stats_fields[] = {IPC_U32(S, req_id)};
#undef S
#define S struct policy_stats_row
static const struct ipc_field stats_row_fields[] = {
	IPC_U32(S, req_id),
	IPC_STR(S, name),
	IPC_U64(S, value),
};
#undef S
#define S struct policy_stats_end
static const struct ipc_field stats_end_fields[] = {IPC_U32(S, req_id)};
#undef S
#define S struct policy_count
static const struct ipc_field count_fields[] = {IPC_STR(S, name), IPC_U64(S, delta)};
#undef S

static const struct ipc_msg_def policy_msgs[] = {
	IPC_MSG(POLICY_RESERVE, struct policy_reserve, reserve_fields, 0),
	IPC_MSG(POLICY_ATTACH, struct policy_attach, attach_fields, 0),
	IPC_MSG(POLICY_END, struct policy_end, end_fields, 0),
	IPC_MSG(POLICY_RESTORE, struct policy_restore, restore_fields, 0),
	IPC_MSG(POLICY_AUTH_RESULT, struct policy_auth_result, auth_result_fields, 0),
	IPC_MSG(POLICY_PENALTY_GET, struct policy_penalty_get, penalty_get_fields, 0),
	IPC_MSG(POLICY_LIST, struct policy_list, list_fields, 0),
	IPC_MSG(POLICY_STATS, struct policy_stats, stats_fields, 0),
	IPC_MSG(POLICY_COUNT, struct policy_count, count_fields, 0),
	IPC_MSG(POLICY_RESERVE_REPLY, struct policy_reserve_reply, reserve_reply_fields, 0),
	IPC_MSG(POLICY_PENALTY_REPLY, struct policy_penalty_reply, penalty_reply_fields, 0),
	IPC_MSG(POLICY_LIST_ROW, struct policy_list_row, list_row_fields, 0),
	IPC_MSG(POLICY_LIST_END, struct policy_list_end, list_end_fields, 0),
	IPC_MSG(POLICY_STATS_ROW, struct policy_stats_row, stats_row_fields, 0),
	IPC_MSG(POLICY_STATS_END, struct policy_stats_end, stats_end_fields, 0),
};

const struct ipc_channel policy_channel = {"policy", policy_msgs, N_ELEMENTS(policy_msgs)};
