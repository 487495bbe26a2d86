/*
 * APPEND (RFC 3501 6.3.11, RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502),
 * UIDPLUS's [APPENDUID] (RFC 4315), APPENDLIMIT (RFC 7889), literal8
 * (RFC 3516) and UTF8 (RFC 6855). Each message literal is checked when the
 * client announces it (mailbox, flags, date, size, quota), so a client
 * waiting for "+" is refused before it sends anything, and its bytes are
 * then streamed into the store, never held in memory. The messages of one
 * command are committed together when the command line is complete.
 * Everything here comes from the client and is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "imap.h"
#include "log.h"
#include "settings.h"
#include "storage/mail-date.h"
#include "xalloc.h"

/* Messages of one MULTIAPPEND kept uncommitted (each holds a file open);
   past this they are committed as they arrive. */
#define APPEND_MAX_PENDING 64

struct append_ctx {
	bool active;
	char tag[128];
	struct mailbox *dest;
	char name[1024];
	/* The command already failed (answered when the line completes). */
	bool failed;
	struct mailbox_error err;
	const char *bad;
	struct mailbox_save *save; /* the literal being received */
	struct mailbox_save *pending[APPEND_MAX_PENDING];
	size_t pending_count;
	uint32_t *uids;
	size_t uid_count, uid_alloc;
	bool uid_unknown;
	/* Top-level arguments already used by earlier messages. */
	size_t next_arg;
};

static struct append_ctx append;

/* The APPENDLIMIT (plugin { quota_max_mail_size }), 0 = none. */
static uint64_t append_limit(const struct imap_client *client)
{
	const char *value = settings_plugin_get(client->set, "quota_max_mail_size");
	uint64_t limit = 0;

	if (value == NULL || !settings_parse_size(value, &limit))
		return 0;
	return limit;
}

void imap_append_write_capability(const struct imap_client *client, struct buf *out)
{
	uint64_t limit = append_limit(client);

	if (limit > 0)
		(void)buf_printf(out, " APPENDLIMIT=%llu", (unsigned long long)limit);
}

static void append_reset(void)
{
	mailbox_save_abort(&append.save);
	for (size_t i = 0; i < append.pending_count; i++)
		mailbox_save_abort(&append.pending[i]);
	imap_dest_release(&append.dest, append.name);
	free(append.uids);
	memset(&append, 0, sizeof(append));
}

static void append_add_uid(uint32_t uid)
{
	if (uid == 0) {
		append.uid_unknown = true;
		return;
	}
	if (append.uid_count == append.uid_alloc) {
		append.uid_alloc = append.uid_alloc == 0 ? 16 : append.uid_alloc * 2;
		append.uids = i_realloc(append.uids, append.uid_alloc * sizeof(*append.uids));
	}
	append.uids[append.uid_count++] = uid;
}

/* Commits the messages kept so far; false with append.err on failure. */
static bool append_commit_pending(void)
{
	bool ok = true;

	for (size_t i = 0; i < append.pending_count; i++) {
		uint32_t uid = 0;

		if (!ok) {
			mailbox_save_abort(&append.pending[i]);
			continue;
		}
		ok = mailbox_save_finish(&append.pending[i], &uid, &append.err);
		if (ok)
			append_add_uid(uid);
	}
	append.pending_count = 0;
	return ok;
}

/* A reply from the literal callback, before the command is complete. */
static void append_reply_early(struct imap_client *client, const char *tag, const char *text,
			       const struct mailbox_error *err)
{
	struct imap_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.client = client;
	cmd.name = "APPEND";
	cmd.def = imap_command_find("APPEND");
	(void)str_copy(cmd.tag, sizeof(cmd.tag), tag);
	if (err != NULL)
		imap_cmd_storage_error(&cmd, err);
	else
		imap_cmd_reply(&cmd, text);
}

/* Flags and date of the message whose literal follows args[0..count). */
static bool parse_msg_args(struct imap_client *client, const struct imap_arg *args, size_t count,
			   struct mailbox_save_params *params, const char **bad_r,
			   struct mailbox_error *err)
{
	size_t i = 0;

	memset(params, 0, sizeof(*params));
	params->internal_date = INDEX_DATE_UNKNOWN;
	params->crlf_to_lf = true;
	if (i < count && args[i].type == IMAP_ARG_LIST) {
		struct imap_flag_list flags;

		if (!imap_flags_parse(&args[i], 1, &flags, bad_r))
			return false;
		params->flags = flags.flags;
		for (size_t k = 0; k < flags.keyword_count; k++) {
			unsigned int idx;

			if (!mailbox_keyword_add(append.dest, flags.keywords[k], &idx, err)) {
				if (err->code == MAILBOX_ERROR_PARAMS) {
					*bad_r = "Invalid keyword";
					return false;
				}
				log_warning("APPEND: keyword %s not kept: %s", flags.keywords[k],
					    err->text);
				mailbox_error_clear(err);
				continue;
			}
			params->keywords |= 1U << idx;
		}
		i++;
	}
	if (i < count && args[i].type == IMAP_ARG_STRING) {
		time_t t;
		int tz;

		if (!mail_date_parse_imap_datetime(args[i].str, &t, &tz)) {
			*bad_r = "Invalid internal date";
			return false;
		}
		params->internal_date = (int64_t)t;
		i++;
	}
	if (i < count && imap_arg_atom_equals(&args[i], "UTF8") &&
	    (client->enabled & IMAP_ENABLED_UTF8) != 0)
		i++;
	if (i != count) {
		*bad_r = "Invalid arguments";
		return false;
	}
	return true;
}

enum imap_literal_action cmd_append_literal(struct imap_client *client,
					    const struct imap_literal_info *lit)
{
	struct mailbox_save_params params;
	struct mailbox_error err;
	const char *text, *bad = NULL;
	size_t len, start;
	uint64_t limit = append_limit(client);

	/* The mailbox name itself, or a literal inside a flag list. */
	if ((lit->depth == 0 && lit->index == 0) ||
	    (lit->depth == 1 && !(lit->index == 0 && lit->top_argc > 0 &&
				  imap_arg_atom_equals(&lit->top_args[lit->top_argc - 1], "UTF8"))))
		return IMAP_LITERAL_ACCEPT;
	if (lit->depth > 1)
		return IMAP_LITERAL_ACCEPT;
	if (!append.active || strcmp(append.tag, lit->tag) != 0) {
		append_reset();
		append.active = true;
		(void)str_copy(append.tag, sizeof(append.tag), lit->tag);
		append.next_arg = 1;
	}
	if (append.failed) {
		/* An earlier message of this MULTIAPPEND could not be stored. */
		err = append.err;
		append_reply_early(client, lit->tag, NULL, &err);
		goto reject;
	}
	if (lit->top_argc == 0 || !imap_arg_get_astring(&lit->top_args[0], &text, &len)) {
		append_reply_early(client, lit->tag,
				   "BAD Error in IMAP command APPEND: Invalid "
				   "arguments.",
				   NULL);
		goto reject;
	}
	if (append.dest == NULL) {
		struct imap_cmd cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.client = client;
		cmd.name = "APPEND";
		cmd.def = imap_command_find("APPEND");
		(void)str_copy(cmd.tag, sizeof(cmd.tag), lit->tag);
		if (!imap_dest_open(&cmd, &lit->top_args[0], &append.dest, append.name,
				    sizeof(append.name)))
			goto reject;
	}
	start = append.next_arg;
	if (start > lit->top_argc || !parse_msg_args(client, lit->top_args + start,
						     lit->top_argc - start, &params, &bad, &err)) {
		struct buf out = BUF_INIT(1024);

		(void)buf_printf(&out, "BAD Error in IMAP command APPEND: %s.",
				 bad != NULL ? bad : "Invalid arguments");
		append_reply_early(client, lit->tag, buf_cstr(&out), NULL);
		buf_free(&out);
		goto reject;
	}
	if (limit > 0 && lit->size > limit) {
		append_reply_early(client, lit->tag, "NO [TOOBIG] Message too large.", NULL);
		goto reject;
	}
	if (lit->size == 0) {
		append_reply_early(client, lit->tag, "NO Can't save a zero byte message.", NULL);
		goto reject;
	}
	params.expected_size = lit->size;
	if (!mailbox_save_begin(append.dest, &params, &append.save, &err)) {
		append_reply_early(client, lit->tag, NULL, &err);
		goto reject;
	}
	/* The literal itself and whatever the depth-1 UTF8 list adds. */
	append.next_arg = lit->top_argc + 1;
	return IMAP_LITERAL_STREAM;
reject:
	append_reset();
	return IMAP_LITERAL_REJECT;
}

void cmd_append_literal_data(struct imap_client *client, const uint8_t *data, size_t len, bool last)
{
	(void)client;
	if (append.save == NULL)
		return;
	if (!append.failed && len > 0 && !mailbox_save_write(append.save, data, len, &append.err))
		append.failed = true;
	if (!last)
		return;
	if (append.failed) {
		mailbox_save_abort(&append.save);
		return;
	}
	if (append.pending_count == APPEND_MAX_PENDING && !append_commit_pending())
		append.failed = true;
	append.pending[append.pending_count++] = append.save;
	append.save = NULL;
}

void cmd_append(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct buf text = BUF_INIT(SIZE_MAX / 2);
	struct imap_seqset set;
	size_t streamed = 0;
	uint32_t uidvalidity;

	for (size_t i = 0; i < cmd->argc; i++) {
		const struct imap_arg *a = &cmd->args[i];

		if (a->type == IMAP_ARG_LITERAL && (a->flags & IMAP_ARG_FLAG_STREAMED) != 0)
			streamed++;
		else if (a->type == IMAP_ARG_LIST && a->len == 1 &&
			 (a->list[0].flags & IMAP_ARG_FLAG_STREAMED) != 0)
			streamed++;
	}
	if (!append.active || strcmp(append.tag, cmd->tag) != 0 || streamed == 0) {
		append_reset();
		imap_cmd_reply(cmd, "BAD Error in IMAP command APPEND: Invalid arguments.");
		return;
	}
	if (append.failed || !append_commit_pending()) {
		struct mailbox_error err = append.err;

		append_reset();
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_seqset_init(&set);
	for (size_t i = 0; i < append.uid_count; i++)
		imap_seqset_add(&set, append.uids[i]);
	uidvalidity = imap_dest_uidvalidity(client, append.name);
	if (!append.uid_unknown && set.count > 0 && uidvalidity != 0) {
		(void)buf_printf(&text, "[APPENDUID %u ", uidvalidity);
		(void)imap_seqset_write(&text, &set);
		(void)buf_append_str(&text, "] ");
	}
	(void)buf_append_str(&text, "Append completed.");
	imap_seqset_clear(&set);
	append_reset();
	imap_cmd_ok(cmd, buf_cstr(&text));
	buf_free(&text);
}
