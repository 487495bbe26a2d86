/*
 * master -> mail process (roost-imap, roost-pop3): the session it is to
 * serve, with the client descriptor. The user's identity and paths come
 * from auth through master; the mail process confines itself to them
 * before it reads the client.
 */
#ifndef ROOST_MSG_MAIL_H
#define ROOST_MSG_MAIL_H

#include "ipc-codec.h"
#include "msg-login.h"

enum mail_msg_type {
	MAIL_SESSION = 0x7e01,
};

struct mail_session {
	uint64_t session_id;
	uint32_t flags; /* enum login_handoff_flags */
	char user[POLICY_USER_MAX];
	char home[AUTH_PATH_MAX];
	char mail[AUTH_PATH_MAX];
	char extra[AUTH_EXTRA_MAX];
	char rip[POLICY_IP_MAX];
	char lip[POLICY_IP_MAX];
	char session[LOGIN_SESSION_MAX];
	char tag[LOGIN_TAG_MAX];
	uint8_t input[LOGIN_INPUT_MAX];
	size_t input_len;
};

extern const struct ipc_channel mail_channel;
#define MAIL_MSG(type) (ipc_channel_find(&mail_channel, (type)))

#endif
