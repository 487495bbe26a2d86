/*
 * Field tables of the master -> mail process channel (see msg-mail.h).
 */
#include "msg-mail.h"

#define S struct mail_session
static const struct ipc_field session_fields[] = {
	IPC_U64(S, session_id),
	IPC_U32(S, flags),
	IPC_STR(S, user),
	IPC_STR(S, home),
	IPC_STR(S, mail),
	IPC_STR(S, extra),
	IPC_STR(S, rip),
	IPC_STR(S, lip),
	IPC_STR(S, session),
	IPC_STR(S, tag),
	IPC_BLOB(S, input, input_len),
};
#undef S

static const struct ipc_msg_def mail_msgs[] = {
	IPC_MSG(MAIL_SESSION, struct mail_session, session_fields, 1),
};

const struct ipc_channel mail_channel = {"mail", mail_msgs, N_ELEMENTS(mail_msgs)};
