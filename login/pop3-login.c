/*
 * POP3 before authentication in roost-login (RFC 1939, RFC 2449 CAPA and
 * response codes, RFC 2595 STLS, RFC 5034 AUTH, RFC 3206 codes): USER/PASS
 * and AUTH are relayed to auth as SASL PLAIN or the named mechanism. Input
 * is one line per command, at most POP3_LINE_MAX bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "log.h"
#include "login.h"
#include "pop3-cmd.h"
#include "xalloc.h"

struct pop3_login {
	char user[POLICY_USER_MAX + 1];
	bool have_user;
	unsigned int bad_commands;
};

#define POP3_MAX_BAD_COMMANDS 10

static struct pop3_login *pop3(struct client *c)
{
	if (c->proto_ctx == NULL)
		c->proto_ctx = i_calloc(1, sizeof(struct pop3_login));
	return c->proto_ctx;
}

static void pop3_greet(struct client *c)
{
	client_printf(c, "+OK %s\r\n", login_set->login_greeting);
}

static bool tls_available(const struct client *c)
{
	return login_tls != NULL && c->tls == NULL;
}

static void pop3_capa(struct client *c)
{
	client_send_str(c, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
			   "AUTH-RESP-CODE\r\n");
	if (tls_available(c))
		client_send_str(c, "STLS\r\n");
	if (client_plaintext_allowed(c)) {
		client_send_str(c, "USER\r\nSASL");
		/* auth_mechanisms is "plain login" style; POP3 lists them in upper case. */
		for (const char *p = login_set->auth_mechanisms; *p != '\0';) {
			size_t len = strcspn(p, " ,");
			char mech[AUTH_MECH_MAX];

			if (len > 0 && str_copy_n(mech, sizeof(mech), p, len)) {
				for (char *m = mech; *m != '\0'; m++)
					*m = (char)(*m >= 'a' && *m <= 'z' ? *m - 32 : *m);
				client_printf(c, " %s", mech);
			}
			p += len;
			while (*p == ' ' || *p == ',')
				p++;
		}
		client_send_str(c, "\r\n");
	}
	client_send_str(c, ".\r\n");
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

static const char *const plaintext_disallowed =
	"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n";

/* USER/PASS become a SASL PLAIN exchange: "\0user\0password", base64. */
static void pop3_pass(struct client *c, const char *password)
{
	struct pop3_login *p = pop3(c);
	struct buf raw = BUF_INIT(2 * POLICY_USER_MAX + 1024);
	struct buf b64 = BUF_INIT(4 * (2 * POLICY_USER_MAX + 1024) / 3 + 8);

	(void)buf_append_c(&raw, '\0');
	(void)buf_append_str(&raw, p->user);
	(void)buf_append_c(&raw, '\0');
	(void)buf_append_str(&raw, password);
	base64_encode(&b64, buf_data(&raw), buf_len(&raw));
	(void)str_copy(c->auth_user, sizeof(c->auth_user), p->user);
	p->have_user = false;
	client_auth_begin(c, "PLAIN", buf_cstr(&b64), buf_len(&b64), true);
	buf_free_secret(&raw);
	buf_free_secret(&b64);
}

static bool pop3_command(struct client *c, const struct pop3_cmd *cmd)
{
	struct pop3_login *p = pop3(c);

	if (strcmp(cmd->name, "CAPA") == 0) {
		pop3_capa(c);
	} else if (strcmp(cmd->name, "NOOP") == 0) {
		client_send_str(c, "+OK\r\n");
	} else if (strcmp(cmd->name, "QUIT") == 0) {
		client_send_str(c, "+OK Logging out\r\n");
		client_disconnect(c, "Aborted login");
		return false;
	} else if (strcmp(cmd->name, "STLS") == 0) {
		if (c->tls != NULL)
			client_send_str(c, "-ERR TLS is already active.\r\n");
		else if (login_tls == NULL)
			client_send_str(c, "-ERR TLS support isn't enabled.\r\n");
		else {
			client_send_str(c, "+OK Begin TLS negotiation now.\r\n");
			client_start_tls(c);
			return false;
		}
	} else if (cmd->args_bad && strcmp(cmd->name, "PASS") != 0) {
		client_send_str(c, "-ERR Invalid arguments.\r\n");
	} else if (strcmp(cmd->name, "USER") == 0) {
		if (!client_plaintext_allowed(c)) {
			client_send_str(c, plaintext_disallowed);
			c->plaintext_refused = true;
		} else if (cmd->argc != 1 || !str_copy(p->user, sizeof(p->user), cmd->args[0]) ||
			   p->user[0] == '\0') {
			client_send_str(c, "-ERR Invalid user name.\r\n");
		} else {
			p->have_user = true;
			client_send_str(c, "+OK\r\n");
		}
	} else if (strcmp(cmd->name, "PASS") == 0) {
		if (!client_plaintext_allowed(c)) {
			client_send_str(c, plaintext_disallowed);
		} else if (!p->have_user) {
			client_send_str(c, "-ERR No username given.\r\n");
		} else {
			/* PASS takes the rest of the line: passwords may hold spaces. */
			pop3_pass(c, cmd->rest);
			return false;
		}
	} else if (strcmp(cmd->name, "AUTH") == 0) {
		if (cmd->argc == 0) {
			/* RFC 5034: list the mechanisms (Dovecot answers so too). */
			client_send_str(c, "+OK\r\n");
			for (const char *m = login_set->auth_mechanisms; *m != '\0';) {
				size_t len = strcspn(m, " ,");

				if (len > 0)
					client_printf(c, "%.*s\r\n", (int)len, m);
				m += len;
				while (*m == ' ' || *m == ',')
					m++;
			}
			client_send_str(c, ".\r\n");
		} else if (cmd->argc > 2) {
			client_send_str(c, "-ERR Unexpected parameters.\r\n");
		} else if (!mech_enabled(cmd->args[0])) {
			client_send_str(c, "-ERR Unsupported authentication mechanism.\r\n");
		} else if (!client_plaintext_allowed(c) &&
			   (strcasecmp(cmd->args[0], "PLAIN") == 0 ||
			    strcasecmp(cmd->args[0], "LOGIN") == 0)) {
			client_send_str(c, plaintext_disallowed);
			c->plaintext_refused = true;
		} else {
			c->sasl_ir_pending = true;
			client_auth_begin(c, cmd->args[0], cmd->argc == 2 ? cmd->args[1] : NULL,
					  cmd->argc == 2 ? strlen(cmd->args[1]) : 0,
					  cmd->argc == 2);
			return false;
		}
	} else {
		if (++p->bad_commands >= POP3_MAX_BAD_COMMANDS) {
			client_send_str(c, "-ERR Too many invalid commands.\r\n");
			client_disconnect(c, "Disconnected: Too many invalid commands");
			return false;
		}
		client_send_str(c, "-ERR Unknown command.\r\n");
	}
	return true;
}

static bool pop3_input(struct client *c)
{
	for (;;) {
		const uint8_t *data = buf_data(&c->input);
		const uint8_t *nl = memchr(data, '\n', buf_len(&c->input));
		struct pop3_cmd cmd;
		size_t len;
		bool go_on;

		if (nl == NULL) {
			if (buf_room(&c->input) == 0) {
				client_send_str(c, "-ERR Input line too long.\r\n");
				client_disconnect(c, "Disconnected: Input line too long");
				return false;
			}
			return true;
		}
		len = (size_t)(nl - data);
		if (c->sasl_ir_pending) {
			/* A SASL response line (RFC 5034: "*" cancels). */
			size_t n = len > 0 && data[len - 1] == '\r' ? len - 1 : len;

			client_auth_respond(c, (const char *)data, n);
			buf_consume(&c->input, len + 1);
			return true;
		}
		if (!pop3_cmd_parse((const char *)data, len, &cmd)) {
			buf_consume(&c->input, len + 1);
			client_send_str(c, "-ERR Invalid command.\r\n");
			continue;
		}
		buf_consume(&c->input, len + 1);
		go_on = pop3_command(c, &cmd);
		explicit_bzero(&cmd, sizeof(cmd));
		if (!go_on || c->state != CLIENT_PREAUTH)
			return !c->destroyed && !c->disconnect_after_output;
	}
}

static void pop3_auth_continue(struct client *c, const char *challenge, size_t len)
{
	client_printf(c, "+ %.*s\r\n", (int)len, challenge);
}

static void pop3_auth_failed(struct client *c, enum auth_fail_reason reason, const char *text)
{
	c->sasl_ir_pending = false;
	switch (reason) {
	case AUTH_FAIL_TEMP:
		client_send_str(c, "-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
		break;
	case AUTH_FAIL_DISABLED:
		client_printf(c, "-ERR [AUTH] %s\r\n",
			      text[0] != '\0' ? text : "Authentication failed.");
		break;
	case AUTH_FAIL_PLAINTEXT:
		client_send_str(c, plaintext_disallowed);
		break;
	case AUTH_FAIL_MECH:
		client_send_str(c, "-ERR Unsupported authentication mechanism.\r\n");
		break;
	case AUTH_FAIL_ABORTED:
		client_send_str(c, "-ERR Authentication aborted by client.\r\n");
		break;
	case AUTH_FAIL_MALFORMED:
		client_send_str(c, "-ERR Invalid base64 data in continued response\r\n");
		break;
	default:
		client_send_str(c, "-ERR [AUTH] Authentication failed.\r\n");
		break;
	}
}

static void pop3_handoff_failed(struct client *c, enum login_handoff_status status,
				unsigned int limit)
{
	c->sasl_ir_pending = false;
	if (status == LOGIN_HANDOFF_LIMIT)
		client_printf(c,
			      "-ERR [SYS/TEMP] Maximum number of connections from user+IP exceeded "
			      "(mail_max_userip_connections=%u)\r\n",
			      limit);
	else
		client_send_str(c,
				"-ERR [SYS/TEMP] Couldn't start the session. Try again later.\r\n");
}

static void pop3_idle_timeout(struct client *c)
{
	client_send_str(c, "-ERR Disconnected for inactivity.\r\n");
}

const struct login_protocol pop3_login_protocol = {
	.name = "pop3",
	.greet = pop3_greet,
	.input = pop3_input,
	.auth_continue = pop3_auth_continue,
	.auth_failed = pop3_auth_failed,
	.handoff_failed = pop3_handoff_failed,
	.idle_timeout = pop3_idle_timeout,
};
