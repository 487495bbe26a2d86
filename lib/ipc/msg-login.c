/*
 * Field tables of the login -> master channel (see msg-login.h).
 */
#include "msg-login.h"

#define S struct login_handoff
static const struct ipc_field handoff_fields[] = {
	IPC_U32(S, req_id), IPC_BLOB(S, token, token_len),
	IPC_U32(S, flags),  IPC_STR(S, rip),
	IPC_STR(S, lip),    IPC_U16(S, rport),
	IPC_U16(S, lport),  IPC_STR(S, session),
	IPC_STR(S, tag),    IPC_BLOB(S, input, input_len),
};
#undef S
#define S struct login_handoff_reply
static const struct ipc_field reply_fields[] = {
	IPC_U32(S, req_id),
	IPC_U32(S, status),
	IPC_U32(S, mail_pid),
	IPC_U32(S, limit),
};
#undef S

#define S struct login_auth_connect
static const struct ipc_field auth_connect_fields[] = {IPC_U32(S, reserved)};
#undef S
#define S struct login_tls_data
static const struct ipc_field tls_data_fields[] = {IPC_STR(S, name), IPC_BLOB(S, data, data_len)};
#undef S
#define S struct login_tls_end
static const struct ipc_field tls_end_fields[] = {IPC_U32(S, reserved)};
#undef S

static const struct ipc_msg_def login_msgs[] = {
	IPC_MSG(LOGIN_HANDOFF, struct login_handoff, handoff_fields, 1),
	IPC_MSG(LOGIN_HANDOFF_REPLY, struct login_handoff_reply, reply_fields, 0),
	IPC_MSG(LOGIN_AUTH_CONNECT, struct login_auth_connect, auth_connect_fields, 1),
	IPC_MSG(LOGIN_TLS_DATA, struct login_tls_data, tls_data_fields, 0),
	IPC_MSG(LOGIN_TLS_END, struct login_tls_end, tls_end_fields, 0),
};

const struct ipc_channel login_channel = {"login", login_msgs, N_ELEMENTS(login_msgs)};
