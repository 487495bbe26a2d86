/*
 * roost-pop3: one authenticated POP3 session, running as the user, confined
 * to the user's mail. Commands come from the client (hostile) one line at a
 * time; the mailbox comes from storage/.
 */
#ifndef ROOST_POP3_H
#define ROOST_POP3_H

#include <stdbool.h>
#include <stdint.h>

#include "connection.h"
#include "storage/mail-process.h"
#include "pop3-cmd.h"

struct pop3_client {
	struct mail_process *mp;
	struct connection *conn;
	bool quit;
	unsigned int bad_commands;
	/* Counters for the logout line. */
	unsigned int top_count, retr_count, deleted_count, message_count;
	uint64_t top_bytes, retr_bytes, deleted_bytes, mailbox_size;
};

struct pop3_command {
	const char *name;
	/* Returns false when the session ends (QUIT). */
	bool (*run)(struct pop3_client *client, const struct pop3_cmd *cmd);
};

/* commands.c */
const struct pop3_command *pop3_command_find(const char *name);

/* client.c */
void pop3_client_start(struct mail_process *mp);
void pop3_client_send(struct pop3_client *client, const char *line);
/* Ends the session after the queued output, logging the logout line. */
void pop3_client_quit(struct pop3_client *client);

#endif
