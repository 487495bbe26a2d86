/*
 * roost-pop3: one authenticated POP3 session (RFC 1939, RFC 2449), running
 * as the user and confined to the user's mail. The message list is fixed
 * at login; deletions happen only at QUIT. Commands come from the client
 * (hostile) one line at a time; the mailbox comes from storage/.
 */
#ifndef ROOST_POP3_H
#define ROOST_POP3_H

#include <stdbool.h>
#include <stdint.h>

#include "connection.h"
#include "pop3-cmd.h"
#include "storage/mail-process.h"

struct pop3_message {
	uint32_t uid;
	uint64_t size; /* with CRLF line ends, as POP3 counts */
	bool deleted;
	bool retrieved;
};

/* A RETR or TOP answer being streamed from the message file. */
struct pop3_send {
	int fd;
	bool top;
	bool in_body;
	bool line_start;    /* nothing of the current line sent yet */
	bool line_has_text; /* the current line has more than a CR */
	bool pending_cr;    /* a CR ended the last chunk */
	uint64_t body_lines_left;
	uint64_t bytes;
};

struct pop3_client {
	struct mail_process *mp;
	struct connection *conn;
	struct mailbox *box;
	struct pop3_message *messages;
	uint32_t count;
	uint64_t total_size;
	bool quit;
	bool sending;
	struct pop3_send send;
	/* RETR/TOP read and output buffers, allocated at the first one and
	   kept for the session: one allocation instead of one, plus a chain
	   of reallocs, per chunk sent. */
	uint8_t *send_chunk;
	struct buf send_out;
	unsigned int bad_commands;
	/* Counters for the logout line. */
	unsigned int top_count, retr_count, deleted_count;
	uint64_t top_bytes, retr_bytes, deleted_bytes;
};

struct pop3_command {
	const char *name;
	/* Returns false when the session ends (QUIT). */
	bool (*run)(struct pop3_client *client, const struct pop3_cmd *cmd);
};

/* commands.c */
const struct pop3_command *pop3_command_find(const char *name);
/* Finds message number arg; sends the error and returns NULL if invalid. */
struct pop3_message *pop3_message_arg(struct pop3_client *client, const char *arg, uint32_t *num_r);

/* retr.c */
bool cmd_retr(struct pop3_client *client, const struct pop3_cmd *cmd);
bool cmd_top(struct pop3_client *client, const struct pop3_cmd *cmd);
/* Continues a streamed answer; false when it is complete. */
bool pop3_send_more(struct pop3_client *client);

/* uidl.c */
/* Checks pop3_uidl_format at start; false with a message for the log. */
bool pop3_uidl_format_valid(const char *format, const char **error_r);
/* The UIDL of a message, per pop3_uidl_format (and X-UIDL if reused). */
void pop3_uidl(struct pop3_client *client, const struct pop3_message *msg, char *out, size_t size);

/* client.c */
void pop3_client_start(struct mail_process *mp);
void pop3_client_send(struct pop3_client *client, const char *line);
void pop3_client_printf(struct pop3_client *client, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Ends the session after the queued output, logging the logout line. */
void pop3_client_quit(struct pop3_client *client);
/* UPDATE state: expunge deleted messages, mark retrieved ones seen. */
bool pop3_client_update(struct pop3_client *client);

#endif
