/*
 * roost-imap: one authenticated IMAP session per process (RFC 3501 and
 * RFC 9051), running as the user and confined to the user's mail.
 * Commands are parsed by lib/imap-parser; each command lives in its own
 * cmd-NAME.c file and is listed in commands.c. The client is authenticated
 * but still untrusted: every argument is checked.
 */
#ifndef ROOST_IMAP_H
#define ROOST_IMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "connection.h"
#include "imap-parser.h"
#include "imap-seqset.h"
#include "storage/mail-process.h"

/* RFC 5530 response codes and texts used in many places. */
#define IMAP_NO_SELECTED "BAD No mailbox selected."
#define IMAP_NO_SUCH	 "NO [NONEXISTENT] Mailbox doesn't exist: "

enum imap_state {
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* What ENABLE turned on (RFC 5161). */
enum imap_enabled {
	IMAP_ENABLED_CONDSTORE = 0x01,
	IMAP_ENABLED_QRESYNC = 0x02,
	IMAP_ENABLED_UTF8 = 0x04, /* UTF8=ACCEPT (RFC 6855) */
	IMAP_ENABLED_IMAP4REV2 = 0x08,
};

struct imap_client;
struct imap_command_def;

/*
 * A command in progress. Most commands finish inside their handler; some
 * (APPEND, IDLE) take over the input until they are done and call
 * imap_command_done().
 */
struct imap_cmd {
	struct imap_client *client;
	const struct imap_command_def *def;
	char tag[128];
	const char *name; /* as the parser upper-cased it, without "UID" */
	bool uid;	  /* the UID variant */
	size_t argc;
	const struct imap_arg *args;
};

struct imap_client {
	struct mail_process *mp;
	const struct roost_settings *set;
	struct connection *conn;
	struct imap_parser *parser;
	enum imap_state state;
	unsigned int enabled; /* enum imap_enabled */
	bool logged_out;
	unsigned int bad_commands;

	/* The selected mailbox. */
	struct mailbox *box;
	bool readonly;
	char box_name[1024];  /* UTF-8, '/' separated */
	uint32_t known_count; /* EXISTS as the client last heard it */
	uint64_t known_modseq;
	/* SEARCHRES (RFC 5182): the UIDs saved by SEARCH ... RETURN (SAVE). */
	struct imap_seqset saved_uids;
	bool saved_valid;

	/* A command that owns the input (APPEND literal, IDLE). */
	struct imap_cmd *busy;
	/* Input handler used while busy (IDLE's DONE line and the like). */
	bool (*busy_input)(struct imap_cmd *cmd);
	/* Called while busy when the output has drained (FETCH streaming). */
	void (*busy_output)(struct imap_cmd *cmd);

	/* Counters for Dovecot's logout line. */
	unsigned int deleted, expunged, trashed;
	unsigned int fetch_hdr_count, fetch_body_count;
	uint64_t fetch_hdr_bytes, fetch_body_bytes;
};

enum imap_command_flags {
	/* Needs a selected mailbox. */
	IMAP_CMD_SELECTED = 0x01,
	/*
	 * Without UID, sequence numbers must stay stable: no EXPUNGE
	 * responses after it (RFC 3501 7.4.1: FETCH, STORE, SEARCH).
	 */
	IMAP_CMD_NO_EXPUNGE = 0x02,
	/* Accepts the UID prefix. */
	IMAP_CMD_UID = 0x04,
};

enum imap_literal_action {
	IMAP_LITERAL_ACCEPT, /* buffer it into the argument (small literals) */
	IMAP_LITERAL_STREAM, /* hand it to literal_data in chunks (APPEND) */
	IMAP_LITERAL_REJECT, /* the callback already answered the command */
};

struct imap_command_def {
	const char *name;
	void (*run)(struct imap_cmd *cmd);
	unsigned int flags;
	/*
	 * Optional: called when a literal of this command is announced, before
	 * the command is complete (APPEND checks the mailbox and streams the
	 * message). Without it, literals up to the parser's limit are buffered.
	 */
	enum imap_literal_action (*literal)(struct imap_client *client,
					    const struct imap_literal_info *literal);
	/* Chunks of a streamed literal; last is set on the final one. */
	void (*literal_data)(struct imap_client *client, const uint8_t *data, size_t len,
			     bool last);
};

/* commands.c */
const struct imap_command_def *imap_command_find(const char *name);
/* The capability list after login (depends on settings). */
void imap_write_capability(struct imap_client *client, struct buf *out);

/* client.c */
void imap_client_start(struct mail_process *mp);
void imap_client_send(struct imap_client *client, const void *data, size_t len);
void imap_client_printf(struct imap_client *client, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* "TAG text\r\n": ends a command (after imap_sync's untagged responses). */
void imap_cmd_reply(struct imap_cmd *cmd, const char *text);
void imap_cmd_replyf(struct imap_cmd *cmd, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Tagged OK after reporting mailbox changes (the usual way to finish). */
void imap_cmd_ok(struct imap_cmd *cmd, const char *text);
/*
 * Makes a command own the input until imap_command_done(): returns a heap
 * copy of cmd (without its arguments) that input() is called with.
 */
struct imap_cmd *imap_command_take_input(struct imap_cmd *cmd, bool (*input)(struct imap_cmd *cmd));
/* A command that took over the input is finished; frees it. */
void imap_command_done(struct imap_cmd *cmd);
/* Returns the heap's unused pages to the system (malloc_trim); runs by
   itself a second after the last command. ctx is unused (a timeout
   callback). */
void imap_client_trim_heap(void *ctx);
/* Goes on with pipelined input (after a long command finished). */
void imap_client_resume(struct imap_client *client);
/* Ends the session after the queued output with the logout line. */
void imap_client_logout(struct imap_client *client);
/* Reports a storage error as the tagged NO with the right response code. */
void imap_cmd_storage_error(struct imap_cmd *cmd, const struct mailbox_error *err);

/* sync.c: telling the client what changed in the selected mailbox. */
/*
 * Syncs the mailbox and sends EXISTS/RECENT/EXPUNGE (or VANISHED)/FETCH
 * FLAGS/FLAGS for other sessions' and deliveries' changes. With
 * allow_expunge false nothing is synced (sequence numbers must hold).
 */
void imap_sync(struct imap_client *client, bool allow_expunge);
/* "(\Seen \Flagged kw)" for a record, with \Recent when set. */
void imap_write_flags(struct imap_client *client, uint32_t flags, uint32_t keywords,
		      struct buf *out);
/* The FLAGS and PERMANENTFLAGS lines for the selected mailbox. */
void imap_send_flags(struct imap_client *client);
/* Closes the selected mailbox (CLOSE, UNSELECT, SELECT of another). */
void imap_unselect(struct imap_client *client);

/* mailbox-name.c: IMAP mailbox names <-> storage names. */
/*
 * Turns a client's mailbox argument into the storage's UTF-8 name: "INBOX"
 * in any case becomes INBOX, modified UTF-7 is decoded (UTF-8 as is after
 * ENABLE UTF8=ACCEPT), the hierarchy separator is '/'. False with
 * *error_r (a NO text) for an invalid name.
 */
bool imap_mailbox_name_from_client(struct imap_client *client, const char *name, size_t len,
				   char *out, size_t size, const char **error_r);
/* How imap_cmd_mailbox_arg() takes a name. */
enum imap_mailbox_arg_flags {
	/* "foo/" names foo: the separator only says children will follow. */
	IMAP_MAILBOX_ARG_PARENT = 0x01,
	/* The mailbox must exist. */
	IMAP_MAILBOX_ARG_EXISTING = 0x02,
};
/*
 * The mailbox a command names first: cmd->args[0], an astring, as a
 * storage name in name_r (size bytes), for a command of at most argc_max
 * arguments. False after answering: "BAD Invalid arguments." when the
 * argument is missing or no astring or there are too many, the NO of
 * imap_mailbox_name_from_client() for an invalid name and, with
 * IMAP_MAILBOX_ARG_EXISTING, NO [NONEXISTENT] or the storage's error.
 */
bool imap_cmd_mailbox_arg(struct imap_cmd *cmd, size_t argc_max, unsigned int flags, char *name_r,
			  size_t size);
/* Writes a storage name for the client (mUTF-7 unless UTF8=ACCEPT), quoted. */
void imap_mailbox_name_write(struct imap_client *client, const char *name, struct buf *out);

/* cmd-*.c */
void cmd_capability(struct imap_cmd *cmd);
void cmd_noop(struct imap_cmd *cmd);
void cmd_logout(struct imap_cmd *cmd);
void cmd_id(struct imap_cmd *cmd);
void cmd_enable(struct imap_cmd *cmd);
void cmd_select(struct imap_cmd *cmd);
void cmd_examine(struct imap_cmd *cmd);
void cmd_close(struct imap_cmd *cmd);
void cmd_unselect(struct imap_cmd *cmd);
void cmd_check(struct imap_cmd *cmd);
void cmd_namespace(struct imap_cmd *cmd);
void cmd_idle(struct imap_cmd *cmd);

/* ---- Mailbox management: CREATE DELETE RENAME (UN)SUBSCRIBE LIST LSUB
 * STATUS NAMESPACE QUOTA COMPRESS (imap-box) ---- */
/* mailbox-config.c: mailbox { } blocks of the configured namespaces. */
/* The special-use attributes configured for name ("\Sent"), or NULL. */
const char *imap_mailbox_special_use(const struct imap_client *client, const char *name);
/* Creates and subscribes the auto = create / subscribe mailboxes (at login);
   failures are logged, never fatal. */
void imap_mailbox_autocreate(struct imap_client *client);
/* mailbox-status.c: STATUS items shared by STATUS and LIST-STATUS. */
enum imap_status_item {
	IMAP_STATUS_MESSAGES = 0x01,
	IMAP_STATUS_RECENT = 0x02,
	IMAP_STATUS_UIDNEXT = 0x04,
	IMAP_STATUS_UIDVALIDITY = 0x08,
	IMAP_STATUS_UNSEEN = 0x10,
	IMAP_STATUS_HIGHESTMODSEQ = 0x20,
	IMAP_STATUS_SIZE = 0x40,
	IMAP_STATUS_DELETED = 0x80,
};
/* Parses a list of STATUS item atoms into *items_r; false for an unknown
   item or an empty list. HIGHESTMODSEQ enables CONDSTORE (RFC 7162). */
bool imap_status_parse(struct imap_client *client, const struct imap_arg *args, size_t count,
		       unsigned int *items_r);
/* Appends "* STATUS name (...)\r\n" for a storage name: from the selected
   view for the selected mailbox, else without disturbing anything
   (mailbox_status_peek). False with *err on a storage error. */
bool imap_status_write(struct imap_client *client, const char *name, unsigned int items,
		       struct buf *out, struct mailbox_error *err);
/* The client's form of a storage name, unquoted (mUTF-7 unless UTF8=ACCEPT). */
void imap_mailbox_name_wire(const struct imap_client *client, const char *name, struct buf *out);
void cmd_create(struct imap_cmd *cmd);
void cmd_delete(struct imap_cmd *cmd);
void cmd_rename(struct imap_cmd *cmd);
void cmd_subscribe(struct imap_cmd *cmd);
void cmd_unsubscribe(struct imap_cmd *cmd);
void cmd_list(struct imap_cmd *cmd);
void cmd_lsub(struct imap_cmd *cmd);
void cmd_status(struct imap_cmd *cmd);
void cmd_getquota(struct imap_cmd *cmd);
void cmd_getquotaroot(struct imap_cmd *cmd);
void cmd_setquota(struct imap_cmd *cmd);
void cmd_compress(struct imap_cmd *cmd);
/* ---- end of mailbox management ---- */
/* ---- Searching and ordering: SEARCH SORT THREAD and "$" (imap-search;
 * internals in search.h, sort.h and search-run.h) ---- */
void cmd_search(struct imap_cmd *cmd);
void cmd_sort(struct imap_cmd *cmd);
void cmd_thread(struct imap_cmd *cmd);
/*
 * For every command that takes a sequence set: parses str (len bytes) and
 * resolves it on the selected mailbox into a normalized set of sequence
 * numbers (uid false) or UIDs (uid true). "$" (RFC 5182) is the result the
 * last SEARCH RETURN (SAVE) stored, limited to messages still in the view
 * (empty when nothing was saved since SELECT, or the save failed): no
 * error. Other UID sets come back as written ("*" = the highest UID, or
 * UIDNEXT in an empty mailbox); intersect them with the view, e.g. with
 * imap_seqset_uid_iter. Sequence numbers beyond the mailbox are
 * IMAP_SEQSET_OUT_OF_RANGE (RFC 9051: answer BAD). Other errors are BAD
 * with *error_r. *out_r (initialized with imap_seqset_init) is replaced;
 * free it with imap_seqset_clear.
 */
enum imap_seqset_error imap_seqset_resolve_client(struct imap_client *client, const char *str,
						  size_t len, bool uid, struct imap_seqset *out_r,
						  const char **error_r);
/* Replaces *seqs_r with the sequence numbers of the messages of box whose
   UIDs are in the normalized set uids. */
void imap_uids_to_seqs(struct mailbox *box, const struct imap_seqset *uids,
		       struct imap_seqset *seqs_r);
/* ---- end of searching and ordering ---- */
/* ---- Message commands (FETCH, STORE, COPY, MOVE, EXPUNGE, APPEND) ---- */
struct fetch_request;
struct mail_record;

/* msgset.c */
/*
 * Resolves a sequence-set argument of cmd (message numbers, or UIDs for a
 * UID command; "$" is the SEARCHRES result) into the normalized set of
 * message numbers of the selected mailbox it names. For UID commands
 * uids_r (may be NULL) gets the resolved UID set itself, including UIDs
 * that do not exist. False after answering BAD when the set is invalid.
 */
bool imap_msgset_get(struct imap_cmd *cmd, const struct imap_arg *arg, struct imap_seqset *seqs_r,
		     struct imap_seqset *uids_r);
/* The UIDs of the messages in seqs, ascending (caller frees). */
uint32_t *imap_msgset_uids(struct imap_client *client, const struct imap_seqset *seqs,
			   size_t *count_r);
/*
 * Turns CONDSTORE on for a "CONDSTORE enabling command" (RFC 7162 3.1):
 * ENABLE CONDSTORE or QRESYNC, SELECT/EXAMINE (CONDSTORE), STATUS or
 * LIST-STATUS HIGHESTMODSEQ, FETCH MODSEQ or CHANGEDSINCE, STORE
 * UNCHANGEDSINCE and SEARCH, SORT or THREAD with a MODSEQ key. The first
 * one issued with a mailbox selected sends "* OK [HIGHESTMODSEQ n]" for it,
 * since its SELECT said none; later ones, and SELECTs after, need not (a
 * SELECT with CONDSTORE on reports HIGHESTMODSEQ itself). Every such
 * command calls this; nothing else sets IMAP_ENABLED_CONDSTORE.
 */
void imap_condstore_enable(struct imap_client *client);
/*
 * "* VANISHED (EARLIER) set" for the UIDs of uids expunged after modseq
 * (every UID of uids not in the mailbox when the expunge log does not
 * reach back that far). Nothing when there are none.
 */
void imap_send_vanished_earlier(struct imap_client *client, const struct imap_seqset *uids,
				uint64_t modseq);

/* copy.c */
/*
 * Opens the mailbox named by arg for saving (COPY, MOVE, APPEND); name
 * (size bytes) receives its storage name. False after answering (NO
 * [TRYCREATE] when it does not exist).
 */
bool imap_dest_open(struct imap_cmd *cmd, const struct imap_arg *arg, struct mailbox **dest_r,
		    char *name, size_t size);
/* Done saving into dest (opened by imap_dest_open for name): it is kept
   open for the next save into the same mailbox. *dest becomes NULL. */
void imap_dest_release(struct mailbox **dest, const char *name);
/* The UIDVALIDITY of a mailbox saved into, for COPYUID and APPENDUID. */
uint32_t imap_dest_uidvalidity(struct imap_client *client, const char *name);
/* Whether name is configured with special_use = \Trash. */
bool imap_mailbox_is_trash(struct imap_client *client, const char *name);
/* COPY (move false) and MOVE of cmd's arguments, with the tagged reply. */
void imap_copy_run(struct imap_cmd *cmd, bool move);

/* fetch.c */
/*
 * Writes the FETCH responses of req for the message numbers in seqs and
 * ends cmd with its tagged reply, now or, when the output must drain
 * first, later with the command owning the connection. Takes over req,
 * seqs and seen (the messages whose \Seen flag this FETCH set, which
 * get FLAGS in their response; may be NULL).
 */
void imap_fetch_start(struct imap_cmd *cmd, struct fetch_request *req, struct imap_seqset *seqs,
		      struct imap_seqset *seen);
/* "(\Seen $Label1)": the flags of a record as FETCH FLAGS shows them. */
void imap_fetch_write_flags(struct imap_client *client, const struct mail_record *rec,
			    struct buf *out);

/* cmd-append.c: " APPENDLIMIT=n" when a limit is configured. */
void imap_append_write_capability(const struct imap_client *client, struct buf *out);

void cmd_fetch(struct imap_cmd *cmd);
void cmd_store(struct imap_cmd *cmd);
void cmd_copy(struct imap_cmd *cmd);
void cmd_move(struct imap_cmd *cmd);
void cmd_expunge(struct imap_cmd *cmd);
void cmd_append(struct imap_cmd *cmd);
enum imap_literal_action cmd_append_literal(struct imap_client *client,
					    const struct imap_literal_info *literal);
void cmd_append_literal_data(struct imap_client *client, const uint8_t *data, size_t len,
			     bool last);

#endif
