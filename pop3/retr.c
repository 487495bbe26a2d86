/*
 * RETR and TOP (RFC 1939): the message is streamed from its file in
 * chunks, with LF line ends turned into CRLF and lines starting with "."
 * dot-stuffed, so that a large message never has to fit in memory and the
 * answer's size is what LIST said. Message bytes are the user's own mail,
 * but they are still handled as arbitrary bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pop3.h"
#include "xalloc.h"

#define RETR_CHUNK 65536
/* Stop filling the output buffer past this; resume when it drains. */
#define RETR_OUTPUT_HIGH (256 * 1024)

/*
 * Converts one chunk into out; returns false when TOP has sent all the body
 * lines it should. A CR at the end of a chunk is held back until the next
 * chunk says whether an LF follows it.
 */
static bool convert_chunk(struct pop3_client *client, const uint8_t *p, size_t len, struct buf *out)
{
	struct pop3_send *s = &client->send;

	while (len > 0) {
		const uint8_t *nl;
		size_t seg, body;

		if (s->top && s->in_body && s->line_start && s->body_lines_left == 0)
			return false;
		nl = memchr(p, '\n', len);
		seg = nl == NULL ? len : (size_t)(nl - p);
		if (s->pending_cr) {
			s->pending_cr = false;
			if (!(seg == 0 && nl != NULL)) {
				/* A bare CR inside the line. */
				(void)buf_append_c(out, '\r');
				s->line_start = false;
				s->line_has_text = true;
			}
		}
		if (s->line_start && seg > 0 && p[0] == '.')
			(void)buf_append_c(out, '.');
		body = seg;
		if (body > 0 && p[body - 1] == '\r') {
			body--;
			if (nl == NULL)
				s->pending_cr = true;
		}
		(void)buf_append(out, p, body);
		if (body > 0) {
			s->line_start = false;
			s->line_has_text = true;
		}
		if (nl == NULL)
			return true;
		(void)buf_append(out, "\r\n", 2);
		if (!s->in_body) {
			/* An empty line (nothing but an optional CR) ends the header. */
			if (!s->line_has_text)
				s->in_body = true;
		} else if (s->top) {
			s->body_lines_left--;
		}
		s->line_start = true;
		s->line_has_text = false;
		p += seg + 1;
		len -= seg + 1;
	}
	return true;
}

static void send_finish(struct pop3_client *client)
{
	struct pop3_send *s = &client->send;

	if (s->pending_cr) {
		pop3_client_send(client, "\r");
		s->line_start = false;
	}
	if (!s->line_start)
		pop3_client_send(client, "\r\n");
	pop3_client_send(client, ".\r\n");
	close(s->fd);
	s->fd = -1;
	client->sending = false;
	if (s->top)
		client->top_bytes += s->bytes;
	else
		client->retr_bytes += s->bytes;
}

bool pop3_send_more(struct pop3_client *client)
{
	struct pop3_send *s = &client->send;
	struct buf *out = &client->send_out;
	uint8_t *chunk;

	if (client->send_chunk == NULL) {
		client->send_chunk = i_malloc(RETR_CHUNK);
		buf_init(out, 4 * RETR_CHUNK);
	}
	chunk = client->send_chunk;

	while (connection_output_len(client->conn) < RETR_OUTPUT_HIGH) {
		ssize_t n = read(s->fd, chunk, RETR_CHUNK);
		bool go_on;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The answer has started: the client must not take a partial message. */
			log_error("Reading a message failed: %m; disconnecting");
			pop3_client_quit(client);
			return false;
		}
		if (n == 0) {
			send_finish(client);
			break;
		}
		buf_reset(out);
		go_on = convert_chunk(client, chunk, (size_t)n, out);
		s->bytes += buf_len(out);
		(void)connection_send(client->conn, buf_data(out), buf_len(out));
		if (!go_on) {
			send_finish(client);
			break;
		}
	}
	return client->sending;
}

static bool start_send(struct pop3_client *client, const struct pop3_cmd *cmd, bool top)
{
	struct pop3_message *msg;
	struct mailbox_error err;
	uint32_t num;
	int fd;
	unsigned long lines = 0;

	if ((!top && cmd->argc != 1) || (top && cmd->argc != 2)) {
		pop3_client_send(client, "-ERR Invalid arguments.\r\n");
		return true;
	}
	msg = pop3_message_arg(client, cmd->args[0], &num);
	if (msg == NULL)
		return true;
	if (top) {
		char *end;

		if (cmd->args[1][0] < '0' || cmd->args[1][0] > '9' ||
		    (lines = strtoul(cmd->args[1], &end, 10), *end != '\0')) {
			pop3_client_send(client, "-ERR Invalid number of lines.\r\n");
			return true;
		}
	}
	/* POP3 numbers skip hidden messages: go by UID. */
	if (!mailbox_mail_open(client->box, mailbox_seq_by_uid(client->box, msg->uid), &fd, &err)) {
		if (err.code == MAILBOX_ERROR_EXPUNGED)
			pop3_client_send(client, "-ERR Message no longer exists.\r\n");
		else {
			log_error("Opening message %u failed: %s", msg->uid, err.text);
			pop3_client_send(client, "-ERR [SYS/TEMP] Couldn't read the message.\r\n");
		}
		return true;
	}
	memset(&client->send, 0, sizeof(client->send));
	client->send.fd = fd;
	client->send.top = top;
	client->send.line_start = true;
	client->send.body_lines_left = lines;
	client->sending = true;
	if (top) {
		client->top_count++;
		pop3_client_send(client, "+OK\r\n");
	} else {
		client->retr_count++;
		msg->retrieved = true;
		pop3_client_printf(client, "+OK %llu octets\r\n", (unsigned long long)msg->size);
	}
	(void)pop3_send_more(client);
	return true;
}

bool cmd_retr(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	return start_send(client, cmd, false);
}

bool cmd_top(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	return start_send(client, cmd, true);
}
