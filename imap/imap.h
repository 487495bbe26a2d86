/*
 * roost-imap: one authenticated IMAP session per process, running as the
 * user and confined to the user's mail. Commands are parsed by
 * lib/imap-parser; each command lives in its own cmd-NAME.c file and is
 * listed in commands.c.
 */
#ifndef ROOST_IMAP_H
#define ROOST_IMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "connection.h"
#include "imap-parser.h"
#include "storage/mail-process.h"

struct imap_client {
	struct mail_process *mp;
	struct connection *conn;
	struct imap_parser *parser;
	bool logged_out;
	unsigned int bad_commands;
	/* Counters for Dovecot's logout line. */
	unsigned int deleted, expunged, trashed;
	unsigned int fetch_hdr_count, fetch_body_count;
	uint64_t fetch_hdr_bytes, fetch_body_bytes;
};

struct imap_command_def {
	const char *name;
	/* Handles a complete command; the handler sends the tagged reply. */
	void (*run)(struct imap_client *client, const struct imap_command *cmd);
};

/* commands.c */
const struct imap_command_def *imap_command_find(const char *name);
/* The capability list after login. */
const char *imap_capability_string(void);

/* client.c */
void imap_client_start(struct mail_process *mp);
void imap_client_send(struct imap_client *client, const char *data, size_t len);
void imap_client_printf(struct imap_client *client, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* "TAG OK text" and the like. */
void imap_client_tagged(struct imap_client *client, const char *tag, const char *text);
/* Ends the session after the queued output with the logout line. */
void imap_client_logout(struct imap_client *client);

/* cmd-*.c */
void cmd_capability(struct imap_client *client, const struct imap_command *cmd);
void cmd_noop(struct imap_client *client, const struct imap_command *cmd);
void cmd_logout(struct imap_client *client, const struct imap_command *cmd);
void cmd_id(struct imap_client *client, const struct imap_command *cmd);

#endif
