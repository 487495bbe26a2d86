/*
 * IMAP before authentication in roost-login (RFC 3501/9051 not
 * authenticated state, RFC 4959 SASL-IR, RFC 7888 LITERAL+, RFC 2595
 * STARTTLS, RFC 2971 ID, RFC 5530 response codes): CAPABILITY, NOOP,
 * LOGOUT, ID, STARTTLS, LOGIN and AUTHENTICATE, parsed by lib/imap-parser
 * with the line and literal limits. LOGIN becomes a SASL PLAIN exchange.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "imap-parser.h"
#include "log.h"
#include "login.h"
#include "xalloc.h"

/* LOGIN arguments arrive as literals from some clients; nothing bigger. */
#define IMAP_LOGIN_LITERAL_MAX 8192
#define IMAP_LOGIN_MAX_BAD     10

struct imap_login {
	struct imap_parser *parser;
	bool reading_sasl_line; /* AUTHENTICATE: the next line is a response */
	unsigned int bad_commands;
};

static struct imap_login *imap(struct client *c)
{
	struct imap_login *il = c->proto_ctx;

	if (il == NULL) {
		struct imap_parser_limits limits;

		imap_parser_limits_default(&limits);
		limits.max_line_length = login_set->imap_max_line_length;
		limits.max_literal_size = IMAP_LOGIN_LITERAL_MAX;
		limits.max_depth = 4;
		limits.max_args = 64;
		limits.max_command_size = 64 * 1024;
		limits.literal_minus = login_set->imap_literal_minus;
		il = i_calloc(1, sizeof(*il));
		il->parser = imap_parser_create(&limits);
		c->proto_ctx = il;
	}
	return il;
}

static bool mech_enabled(const char *mech)
{
	const char *p = login_set->auth_mechanisms;
	size_t len = strlen(mech);

	while (*p != '\0') {
		size_t wlen = strcspn(p, " ,");

		if (wlen == len && strncasecmp(p, mech, len) == 0)
			return true;
		p += wlen;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return false;
}

static bool mech_is_plaintext(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0;
}

/* The pre-login capability list, as Dovecot orders it. */
static void write_capability(struct client *c, struct buf *out)
{
	(void)buf_append_str(out, "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE");
	(void)buf_append_str(out, login_set->imap_literal_minus ? " LITERAL-" : " LITERAL+");
	if (login_tls != NULL && c->tls == NULL)
		(void)buf_append_str(out, " STARTTLS");
	if (!client_plaintext_allowed(c))
		(void)buf_append_str(out, " LOGINDISABLED");
	for (const char *p = login_set->auth_mechanisms; *p != '\0';) {
		size_t len = strcspn(p, " ,");
		char mech[AUTH_MECH_MAX];

		if (len > 0 && str_copy_n(mech, sizeof(mech), p, len) &&
		    (client_plaintext_allowed(c) || !mech_is_plaintext(mech))) {
			(void)buf_append_str(out, " AUTH=");
			for (char *m = mech; *m != '\0'; m++)
				(void)buf_append_c(
					out, (uint8_t)(*m >= 'a' && *m <= 'z' ? *m - 32 : *m));
		}
		p += len;
		while (*p == ' ' || *p == ',')
			p++;
	}
}

static void imap_greet(struct client *c)
{
	struct buf line = BUF_INIT(4096);

	(void)buf_append_str(&line, "* OK [CAPABILITY ");
	write_capability(c, &line);
	(void)buf_printf(&line, "] %s\r\n", login_set->login_greeting);
	client_send(c, (const char *)buf_data(&line), buf_len(&line));
	buf_free(&line);
}

static void reply(struct client *c, const char *tag, const char *text)
{
	client_printf(c, "%s %s\r\n", tag, text);
}

static void cmd_capability(struct client *c, const char *tag)
{
	struct buf line = BUF_INIT(4096);

	(void)buf_append_str(&line, "* CAPABILITY ");
	write_capability(c, &line);
	(void)buf_append_str(&line, "\r\n");
	client_send(c, (const char *)buf_data(&line), buf_len(&line));
	buf_free(&line);
	reply(c, tag, "OK Pre-login capabilities listed, post-login capabilities have more.");
}

static void cmd_id(struct client *c, const char *tag, const struct imap_command *cmd)
{
	const struct imap_arg *list;
	size_t count;

	/* ID takes NIL or a list of string pairs (RFC 2971). */
	if (cmd->argc != 1 ||
	    (cmd->args[0].type != IMAP_ARG_NIL &&
	     (!imap_arg_get_list(&cmd->args[0], &list, &count) || count % 2 != 0 || count > 60))) {
		reply(c, tag, "BAD Invalid ID parameters");
		return;
	}
	client_send_str(c, "* ID (\"name\" \"roost\")\r\n");
	reply(c, tag, "OK ID completed.");
}

static void cmd_starttls(struct client *c, const char *tag)
{
	if (c->tls != NULL) {
		reply(c, tag, "BAD TLS is already active.");
		return;
	}
	if (login_tls == NULL) {
		reply(c, tag, "BAD TLS support isn't enabled.");
		return;
	}
	reply(c, tag, "OK Begin TLS negotiation now.");
	client_start_tls(c);
}

static const char *const privacy_required =
	"NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) "
	"connections.";

static void cmd_login(struct client *c, const char *tag, const struct imap_command *cmd)
{
	struct buf raw = BUF_INIT(2 * IMAP_LOGIN_LITERAL_MAX + 2);
	struct buf b64 = BUF_INIT(4 * (2 * IMAP_LOGIN_LITERAL_MAX + 2) / 3 + 8);
	const char *user, *pass;
	size_t ulen, plen;

	if (cmd->argc != 2 || !imap_arg_get_astring(&cmd->args[0], &user, &ulen) ||
	    !imap_arg_get_astring(&cmd->args[1], &pass, &plen)) {
		reply(c, tag, "BAD Invalid arguments.");
		return;
	}
	if (!client_plaintext_allowed(c)) {
		reply(c, tag, privacy_required);
		c->plaintext_refused = true;
		return;
	}
	if (memchr(user, '\0', ulen) != NULL || memchr(pass, '\0', plen) != NULL ||
	    ulen >= POLICY_USER_MAX) {
		reply(c, tag, "NO [AUTHENTICATIONFAILED] Authentication failed.");
		return;
	}
	(void)str_copy_n(c->auth_user, sizeof(c->auth_user), user, ulen);
	(void)buf_append_c(&raw, '\0');
	(void)buf_append(&raw, user, ulen);
	(void)buf_append_c(&raw, '\0');
	(void)buf_append(&raw, pass, plen);
	base64_encode(&b64, buf_data(&raw), buf_len(&raw));
	(void)str_copy(c->tag, sizeof(c->tag), tag);
	client_auth_begin(c, "PLAIN", buf_cstr(&b64), buf_len(&b64), true);
	buf_free_secret(&raw);
	buf_free_secret(&b64);
}

static void cmd_authenticate(struct client *c, const char *tag, const struct imap_command *cmd)
{
	const char *mech, *ir = NULL;
	size_t len = 0;

	if (cmd->argc < 1 || cmd->argc > 2 || !imap_arg_get_atom(&cmd->args[0], &mech) ||
	    (cmd->argc == 2 && !imap_arg_get_atom(&cmd->args[1], &ir))) {
		reply(c, tag, "BAD Invalid arguments.");
		return;
	}
	if (!mech_enabled(mech)) {
		reply(c, tag, "NO Unsupported authentication mechanism.");
		return;
	}
	if (!client_plaintext_allowed(c) && mech_is_plaintext(mech)) {
		reply(c, tag, privacy_required);
		c->plaintext_refused = true;
		return;
	}
	if (ir != NULL)
		len = strlen(ir);
	(void)str_copy(c->tag, sizeof(c->tag), tag);
	c->sasl_ir_pending = true;
	client_auth_begin(c, mech, ir, len, ir != NULL);
}

static bool imap_command(struct client *c, const struct imap_command *cmd)
{
	struct imap_login *il = imap(c);
	const char *tag = cmd->tag;

	if (strcmp(cmd->name, "CAPABILITY") == 0) {
		cmd_capability(c, tag);
	} else if (strcmp(cmd->name, "NOOP") == 0) {
		reply(c, tag, "OK NOOP completed.");
	} else if (strcmp(cmd->name, "LOGOUT") == 0) {
		client_send_str(c, "* BYE Logging out\r\n");
		reply(c, tag, "OK Logout completed.");
		client_disconnect(c, "Aborted login");
		return false;
	} else if (strcmp(cmd->name, "ID") == 0) {
		cmd_id(c, tag, cmd);
	} else if (strcmp(cmd->name, "STARTTLS") == 0) {
		/* The loop stops by itself: input is blocked until TLS is up. */
		cmd_starttls(c, tag);
	} else if (strcmp(cmd->name, "LOGIN") == 0) {
		cmd_login(c, tag, cmd);
	} else if (strcmp(cmd->name, "AUTHENTICATE") == 0) {
		cmd_authenticate(c, tag, cmd);
	} else if (strcmp(cmd->name, "ENABLE") == 0 || strcmp(cmd->name, "SELECT") == 0 ||
		   strcmp(cmd->name, "EXAMINE") == 0 || strcmp(cmd->name, "LIST") == 0) {
		reply(c, tag, "BAD Command not allowed before authentication.");
	} else {
		if (++il->bad_commands >= IMAP_LOGIN_MAX_BAD) {
			client_send_str(c, "* BYE Too many invalid IMAP commands.\r\n");
			client_disconnect(c, "Disconnected: Too many invalid commands");
			return false;
		}
		reply(c, tag, "BAD Error in IMAP command received by server.");
	}
	return true;
}

/* The client's answer to an AUTHENTICATE challenge: one line of base64. */
static bool imap_sasl_line(struct client *c)
{
	struct imap_login *il = imap(c);
	struct imap_parse_event ev;
	size_t consumed;
	enum imap_parse_result r = imap_parser_read_line(il->parser, buf_data(&c->input),
							 buf_len(&c->input), &consumed, &ev);

	buf_consume(&c->input, consumed);
	if (r == IMAP_PARSE_MORE)
		return true;
	il->reading_sasl_line = false;
	if (r != IMAP_PARSE_LINE) {
		client_auth_respond(c, "", 0);
		return true;
	}
	client_auth_respond(c, (const char *)ev.data, ev.data_len);
	return true;
}

static bool imap_input(struct client *c)
{
	struct imap_login *il = imap(c);

	/* An AUTHENTICATE response line is read while the exchange is on. */
	if (il->reading_sasl_line && c->state == CLIENT_AUTHENTICATING && !c->input_blocked)
		return imap_sasl_line(c);
	while (c->state == CLIENT_PREAUTH && !c->input_blocked && !c->destroyed) {
		struct imap_parse_event ev;
		size_t consumed = 0;
		enum imap_parse_result r;

		r = imap_parser_parse(il->parser, buf_data(&c->input), buf_len(&c->input),
				      &consumed, &ev);
		buf_consume(&c->input, consumed);
		switch (r) {
		case IMAP_PARSE_MORE:
			return true;
		case IMAP_PARSE_COMMAND:
			if (!imap_command(c, ev.cmd))
				return false;
			break;
		case IMAP_PARSE_LITERAL:
			if (!imap_parser_literal_accept(il->parser))
				break; /* the next parse reports it as too large */
			if (ev.literal.sync)
				client_send_str(c, "+ OK\r\n");
			break;
		case IMAP_PARSE_LITERAL_DATA:
			break;
		case IMAP_PARSE_ERROR:
			client_printf(c, "%s BAD Error in IMAP command received by server: %s\r\n",
				      ev.error_tag != NULL ? ev.error_tag : "*", ev.error_msg);
			if (ev.error_fatal) {
				client_disconnect(c, "Disconnected: Invalid input");
				return false;
			}
			if (++il->bad_commands >= IMAP_LOGIN_MAX_BAD) {
				client_send_str(c, "* BYE Too many invalid IMAP commands.\r\n");
				client_disconnect(c, "Disconnected: Too many invalid commands");
				return false;
			}
			break;
		case IMAP_PARSE_LINE:
			break;
		}
	}
	return true;
}

static void imap_auth_continue(struct client *c, const char *challenge, size_t len)
{
	imap(c)->reading_sasl_line = true;
	client_printf(c, "+ %.*s\r\n", (int)len, challenge);
}

static void imap_auth_failed(struct client *c, enum auth_fail_reason reason, const char *text)
{
	const char *tag = c->tag[0] != '\0' ? c->tag : "*";

	c->sasl_ir_pending = false;
	imap(c)->reading_sasl_line = false;
	switch (reason) {
	case AUTH_FAIL_TEMP:
		reply(c, tag, "NO [UNAVAILABLE] Temporary authentication failure.");
		break;
	case AUTH_FAIL_DISABLED:
		client_printf(c, "%s NO [AUTHORIZATIONFAILED] %s\r\n", tag,
			      text[0] != '\0' ? text : "Authentication failed.");
		break;
	case AUTH_FAIL_PLAINTEXT:
		reply(c, tag, privacy_required);
		break;
	case AUTH_FAIL_MECH:
		reply(c, tag, "NO Unsupported authentication mechanism.");
		break;
	case AUTH_FAIL_MALFORMED:
		reply(c, tag, "BAD Invalid base64 data in continued response");
		break;
	case AUTH_FAIL_ABORTED:
		reply(c, tag, "BAD Authentication aborted by client.");
		break;
	default:
		reply(c, tag, "NO [AUTHENTICATIONFAILED] Authentication failed.");
		break;
	}
	c->tag[0] = '\0';
}

static void imap_handoff_failed(struct client *c, enum login_handoff_status status,
				unsigned int limit)
{
	const char *tag = c->tag[0] != '\0' ? c->tag : "*";

	if (status == LOGIN_HANDOFF_LIMIT)
		client_printf(c,
			      "%s NO [UNAVAILABLE] Maximum number of connections from user+IP "
			      "exceeded (mail_max_userip_connections=%u)\r\n",
			      tag, limit);
	else
		reply(c, tag,
		      "NO [UNAVAILABLE] Internal error occurred. Refer to server log for more "
		      "information.");
	c->tag[0] = '\0';
}

static void imap_idle_timeout(struct client *c)
{
	client_send_str(c, "* BYE Disconnected for inactivity.\r\n");
}

static void imap_destroy(void *ctx)
{
	struct imap_login *il = ctx;

	imap_parser_destroy(&il->parser);
}

const struct login_protocol imap_login_protocol = {
	.name = "imap",
	.greet = imap_greet,
	.input = imap_input,
	.auth_continue = imap_auth_continue,
	.auth_failed = imap_auth_failed,
	.handoff_failed = imap_handoff_failed,
	.idle_timeout = imap_idle_timeout,
	.destroy = imap_destroy,
};
