/*
 * Field tables of roost-auth's channels (see msg-auth.h).
 */
#include "msg-auth.h"

#define S struct auth_login_request
static const struct ipc_field request_fields[] = {
	IPC_U32(S, id),	 IPC_U32(S, flags), IPC_STR(S, service), IPC_STR(S, mech),
	IPC_STR(S, rip), IPC_STR(S, lip),   IPC_STR(S, session), IPC_BLOB(S, initial, initial_len),
};
#undef S
#define S struct auth_login_response
static const struct ipc_field response_fields[] = {IPC_U32(S, id), IPC_BLOB(S, data, data_len)};
#undef S
#define S struct auth_login_abort
static const struct ipc_field abort_fields[] = {IPC_U32(S, id)};
#undef S
#define S struct auth_login_continue
static const struct ipc_field continue_fields[] = {IPC_U32(S, id), IPC_BLOB(S, data, data_len)};
#undef S
#define S struct auth_login_ok
static const struct ipc_field ok_fields[] = {
	IPC_U32(S, id),
	IPC_STR(S, user),
	IPC_BLOB(S, token, token_len),
};
#undef S
#define S struct auth_login_fail
static const struct ipc_field fail_fields[] = {
	IPC_U32(S, id),
	IPC_U32(S, reason),
	IPC_STR(S, user),
	IPC_STR(S, text),
};
#undef S

static const struct ipc_msg_def auth_login_msgs[] = {
	IPC_MSG(AUTH_LOGIN_REQUEST, struct auth_login_request, request_fields, 0),
	IPC_MSG(AUTH_LOGIN_RESPONSE, struct auth_login_response, response_fields, 0),
	IPC_MSG(AUTH_LOGIN_ABORT, struct auth_login_abort, abort_fields, 0),
	IPC_MSG(AUTH_LOGIN_CONTINUE, struct auth_login_continue, continue_fields, 0),
	IPC_MSG(AUTH_LOGIN_OK, struct auth_login_ok, ok_fields, 0),
	IPC_MSG(AUTH_LOGIN_FAIL, struct auth_login_fail, fail_fields, 0),
};

const struct ipc_channel auth_login_channel = {"auth-login", auth_login_msgs,
					       N_ELEMENTS(auth_login_msgs)};

#define S struct auth_master_client
static const struct ipc_field client_fields[] = {IPC_U32(S, login_pid), IPC_STR(S, service)};
#undef S
#define S struct auth_master_redeem
static const struct ipc_field redeem_fields[] = {
	IPC_U32(S, req_id),    IPC_BLOB(S, token, token_len),
	IPC_U32(S, login_pid), IPC_STR(S, service),
	IPC_STR(S, rip),
};
#undef S
#define S struct auth_master_penalty
static const struct ipc_field penalty_fields[] = {IPC_U32(S, req_id), IPC_U32(S, delay_msecs)};
#undef S
#define S struct auth_master_redeem_reply
static const struct ipc_field redeem_reply_fields[] = {
	IPC_U32(S, req_id), IPC_U32(S, status), IPC_STR(S, user), IPC_U32(S, uid),
	IPC_U32(S, gid),    IPC_STR(S, home),	IPC_STR(S, mail), IPC_STR(S, extra),
};
#undef S
#define S struct auth_master_result
static const struct ipc_field result_fields[] = {
	IPC_U32(S, req_id), IPC_STR(S, service), IPC_STR(S, rip),
	IPC_U8(S, success), IPC_U8(S, tls),
};
#undef S

static const struct ipc_msg_def auth_master_msgs[] = {
	IPC_MSG(AUTH_MASTER_CLIENT, struct auth_master_client, client_fields, 1),
	IPC_MSG(AUTH_MASTER_REDEEM, struct auth_master_redeem, redeem_fields, 0),
	IPC_MSG(AUTH_MASTER_PENALTY, struct auth_master_penalty, penalty_fields, 0),
	IPC_MSG(AUTH_MASTER_REDEEM_REPLY, struct auth_master_redeem_reply, redeem_reply_fields, 0),
	IPC_MSG(AUTH_MASTER_RESULT, struct auth_master_result, result_fields, 0),
};

const struct ipc_channel auth_master_channel = {"auth-master", auth_master_msgs,
						N_ELEMENTS(auth_master_msgs)};

#define S struct auth_userdb_lookup
static const struct ipc_field lookup_fields[] = {
	IPC_U32(S, id),
	IPC_STR(S, user),
	IPC_STR(S, service),
};
#undef S

static const struct ipc_msg_def auth_userdb_msgs[] = {
	IPC_MSG(AUTH_USERDB_LOOKUP, struct auth_userdb_lookup, lookup_fields, 0),
	IPC_MSG(AUTH_USERDB_REPLY, struct auth_master_redeem_reply, redeem_reply_fields, 0),
};

const struct ipc_channel auth_userdb_channel = {"auth-userdb", auth_userdb_msgs,
						N_ELEMENTS(auth_userdb_msgs)};
