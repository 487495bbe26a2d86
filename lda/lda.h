/*
 * roost-lda's shared types: the command line, the message as read from the
 * MTA, the user it goes to and the delivery in progress. Everything here
 * lives in the one roost-lda process; the command line comes from the MTA
 * (its -f and -a values from a remote SMTP client), the message from the
 * internet, the user's fields from roost-auth.
 */
#ifndef ROOST_LDA_H
#define ROOST_LDA_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ipc/msg-auth.h"
#include "../storage/mailbox.h"
#include "settings.h"

/*
 * Exit codes, from <sysexits.h>, as Dovecot's LDA uses them and as Postfix's
 * pipe(8) reads them: 0 delivered, 64 bad command line (bounce), 67 unknown
 * user (bounce), 75 temporary failure (Postfix retries), 77 message rejected
 * (over quota without quota_full_tempfail, or larger than
 * lda_max_message_size: bounce with the reason from stderr, which starts
 * with an RFC 3463 code such as "5.2.2 " unless -e asked for the bare
 * reason as dovecot-lda writes it; Postfix takes the code for its DSN).
 */
#define LDA_EXIT_OK	  0
#define LDA_EXIT_USAGE	  64
#define LDA_EXIT_NOUSER	  67
#define LDA_EXIT_TEMPFAIL 75
#define LDA_EXIT_NOPERM	  77

/* Longest envelope address accepted on the command line (RFC 5321 path). */
#define LDA_ADDRESS_MAX 512
/* Most -o overrides on one command line. */
#define LDA_OVERRIDES_MAX 64
/* Room kept in front of the message for the trace fields roost-lda adds. */
#define LDA_TRACE_HEADROOM (2 * LDA_ADDRESS_MAX + 64)
/* First read size for a message from a pipe; the buffer doubles from here. */
#define LDA_READ_CHUNK (64 * 1024)

/* ---- command line (options.c) ---- */

struct lda_options {
	const char *config_path;		  /* -c; default SYSCONFDIR/roost/roost.conf */
	const char *user;			  /* -d USER: look USER up in userdb */
	const char *mail_from;			  /* -f SENDER as given (NULL = not given) */
	const char *orig_rcpt;			  /* -a ADDRESS: original recipient */
	const char *final_rcpt;			  /* -r ADDRESS: final recipient */
	const char *mailbox;			  /* -m MAILBOX; NULL (or -m "") = INBOX */
	const char *path;			  /* -p FILE instead of stdin */
	bool stderr_errors;			  /* -e */
	bool keep_env;				  /* -k */
	const char *overrides[LDA_OVERRIDES_MAX]; /* -o NAME=VALUE */
	unsigned int override_count;
};

/*
 * Parses roost-lda's arguments (argv[0] is the program name) the way
 * dovecot-lda takes them: -a -c -d -f -m -o -p -r with a value (attached,
 * "-dUSER", or as the next argument), -e -k as flags that may be grouped,
 * "--" ends the options. Pointers in *opts point into argv. Returns false
 * with *error_r (static or into argv) for an unknown option, a missing value,
 * a stray argument or too many -o: the caller exits with LDA_EXIT_USAGE.
 */
bool lda_options_parse(int argc, char **argv, struct lda_options *opts, const char **error_r);

/* The usage text, one line per option group, ending in a newline. */
extern const char lda_usage_text[];

/*
 * Reads an SMTP path given on the command line ("user@example.com",
 * "<user@example.com>", "<>" or "" for the null path, a bare local part
 * when allow_localpart) into out without the brackets. Returns false when it
 * is not a path: empty where not allowed, unbalanced brackets, control
 * characters or spaces outside a quoted local part, more than one '@'
 * outside quotes, an empty local part or domain, or longer than
 * LDA_ADDRESS_MAX.
 */
bool lda_address_parse(const char *in, bool allow_empty, bool allow_localpart,
		       char out[LDA_ADDRESS_MAX + 1]);

/* ---- configuration (config.c) ---- */

/*
 * Reads path (roost.conf) and applies the -o overrides (NAME=VALUE for a
 * global setting, plugin/NAME=VALUE for a plugin { } value) on top, as seen
 * by `protocol lda { }`. Returns NULL with *error_r (caller frees) on any
 * error, naming the file and line or the override.
 */
struct roost_settings *lda_settings_read(const char *path, const char *const *overrides,
					 unsigned int override_count, char **error_r);

/* ---- the user (userdb.c) ---- */

struct lda_user {
	char name[POLICY_USER_MAX];   /* user name after the userdb lookup */
	char detail[POLICY_USER_MAX]; /* recipient_delimiter detail, "" if none */
	uid_t uid;
	gid_t gid;
	char home[AUTH_PATH_MAX];   /* "" when the userdb has none */
	char mail[AUTH_PATH_MAX];   /* mail_location for this user */
	char extra[AUTH_EXTRA_MAX]; /* tab-separated key=value userdb fields */
};

enum lda_userdb_result {
	LDA_USERDB_OK,
	LDA_USERDB_NOT_FOUND,
	LDA_USERDB_TEMPFAIL, /* auth not running, not answering, or failing */
};

/*
 * Asks roost-auth (the auth-userdb socket at socket_path) for user. When
 * delimiters (recipient_delimiter) split a detail off the local part, the
 * name without the detail is looked up first and the full name only if that
 * one is unknown; user_r->detail keeps the detail. A lookup that takes
 * longer than timeout_secs is a temporary failure. *error_r explains any
 * result but OK.
 */
enum lda_userdb_result lda_userdb_lookup(const char *socket_path, const char *user,
					 const char *delimiters, unsigned int timeout_secs,
					 struct lda_user *user_r, const char **error_r);

/* The value of a userdb extra field ("quota_rule"), or NULL. Returns a
   pointer into a static buffer valid until the next call. */
const char *lda_user_extra(const struct lda_user *user, const char *key);

/* ---- the message (message.c) ---- */

enum lda_read_result {
	LDA_READ_OK,
	LDA_READ_TOO_LARGE, /* over max_size; the rest of the input was drained */
	LDA_READ_ERROR,	    /* read() failed: *error_r */
};

struct lda_message {
	/* The message as stored: added trace fields, then the input without
	   an mbox "From " line. Points into the read buffer. */
	const uint8_t *data;
	size_t size;
	/* Where the input's own bytes start inside data (after the trace
	   fields roost-lda added). */
	size_t input_offset;
	/* Whether the input's first line ends in CRLF (added fields follow). */
	bool crlf;
	/* The envelope sender of an mbox "From " line, or NULL. */
	char *from_line_sender;
	/* Header facts, NUL-terminated, control characters replaced, NULL when
	   absent: Message-ID, Subject (RFC 2047 decoded), the first From
	   address (local@domain), and the address of
	   lda_original_recipient_header. */
	char *message_id;
	char *subject;
	char *from;
	char *orig_rcpt_header;
	/* Private: the buffer, with LDA_TRACE_HEADROOM bytes before the input. */
	uint8_t *buf_;
	size_t buf_alloc_;
};

/*
 * Reads the whole message from fd (a pipe or a file) into memory with
 * LDA_TRACE_HEADROOM free bytes in front, at most max_size bytes of input.
 * A message over max_size gives TOO_LARGE after reading (and discarding)
 * the rest of the input, so the MTA sees a clean exit. Drops an mbox
 * "From " line at the start, keeping its sender.
 */
enum lda_read_result lda_message_read(int fd, uint64_t max_size, struct lda_message *msg_r,
				      uint64_t *input_size_r, const char **error_r);
/* The same from memory (tests, fuzzing); copies data. */
void lda_message_from_memory(const void *data, size_t size, struct lda_message *msg_r);
/*
 * Scans the header for the facts above; orig_rcpt_header may be NULL or ""
 * (lda_original_recipient_header). Never fails: a header over the limits is
 * read up to where it became unusable.
 */
void lda_message_parse_header(struct lda_message *msg, const char *orig_rcpt_header);
/*
 * Puts "Return-Path: <mail_from>" and "Delivered-To: rcpt_to" in front of
 * the message, with the message's own line ending, unless the MTA already
 * did: a field of that name (Delivered-To: with the same address) among the
 * trace fields at the very top (Return-Path, Delivered-To, X-Original-To,
 * as Postfix's pipe flags R, D and O write them) is left alone and not
 * repeated. mail_from NULL adds no Return-Path; "" is the null path <>.
 * An address longer than LDA_ADDRESS_MAX or holding control characters
 * (a line break would forge header fields) is not written.
 * Call once, after lda_message_read/from_memory.
 */
void lda_message_add_trace(struct lda_message *msg, const char *mail_from, const char *rcpt_to);
void lda_message_free(struct lda_message *msg);

/* ---- delivery (deliver.c) ---- */

enum lda_status {
	LDA_STATUS_OK,
	LDA_STATUS_TEMPFAIL,
	LDA_STATUS_REJECTED, /* permanent: over quota, too large */
};

struct lda_delivery {
	const struct roost_settings *set; /* protocol lda view */
	const struct lda_user *user;
	struct mail_storage *storage;
	struct lda_message *msg;
	/* Envelope, bare addresses: mail_from "" = null path. */
	const char *mail_from;
	const char *rcpt_to;	  /* final recipient */
	const char *orig_rcpt_to; /* original recipient */
	/* -m or "INBOX": where keep stores the message. */
	const char *default_mailbox;
	/* What happened, for the exit code and stderr. */
	enum lda_status status;
	char reason[MAILBOX_ERROR_TEXT_MAX];
	/* RFC 3463 code of a rejection ("5.2.2" mailbox full), for the MTA. */
	const char *dsn;
	unsigned int saved_count;
	/* Sieve for this delivery (lda_filter_prepare), NULL for none. */
	struct lda_filter *filter;
	/* With status REJECTED: a Sieve reject already sent the bounce, so the
	   MTA must not send another (exit 0). */
	bool bounced;
};

/*
 * Stores the message in mailbox (UTF-8, '/' separated) with the given
 * flags and keywords (names, NULL-terminated, may be NULL). A missing
 * mailbox is created when create or lda_mailbox_autocreate says so (and
 * subscribed with lda_mailbox_autosubscribe). Logs the outcome with
 * deliver_log_format ("saved mail to X" or "save failed to X: why").
 * Returns false with *err set; the caller decides about fallbacks.
 */
bool lda_deliver_store(struct lda_delivery *d, const char *mailbox, uint32_t flags,
		       const char *const *keywords, bool create, struct mailbox_error *err);
/*
 * keep (and the implicit keep): stores in the default mailbox with flags and
 * keywords (imap4flags; 0 and NULL for none) and, when that fails for any
 * reason and it is not INBOX, in INBOX, as dovecot-lda does. Sets d->status
 * and d->reason from the final outcome.
 */
bool lda_deliver_keep(struct lda_delivery *d, uint32_t flags, const char *const *keywords);

/*
 * Expands deliver_log_format for the delivery: %$ status text, %m msgid,
 * %s subject, %f from, %e envelope sender, %p physical and %w virtual size,
 * %{to_envelope}, %% a '%', with Dovecot's long names (%{msgid}, ...).
 * Unknown variables expand to nothing; out's limit truncates.
 */
void lda_log_format(struct buf *out, const char *format, const struct lda_delivery *d,
		    const char *status);
/* Logs one delivery line (Info, or Error when failed) via deliver_log_format. */
void lda_deliver_log(const struct lda_delivery *d, bool failed, const char *fmt, ...)
	ATTR_PRINTF(3, 4);

/* ---- filtering (filter.c): Sieve ---- */

struct lda_filter;
struct sandbox_identity;
struct sandbox_path;

/*
 * Prepares Sieve for one delivery, before the sandbox and as the user:
 * reads the Sieve settings from plugin { } (with Pigeonhole's names),
 * finds the scripts (sieve_before, the user's script or sieve_default,
 * sieve_after), forks the submission helper (lda/submit.h) when a script
 * may send mail, and arms the CPU-time backstop of sieve_max_cpu_time.
 * Call it before sandbox_drop_privileges() when roost-lda already runs as
 * the user (so a set-gid sendmail keeps working) and after it when started
 * as root. Returns NULL when no script applies (the message is kept);
 * problems are logged, never fatal.
 */
struct lda_filter *lda_filter_prepare(const struct roost_settings *set, const struct lda_user *user,
				      const struct sandbox_identity *id);
/*
 * Writes the Landlock paths the scripts need into paths (at most max):
 * each script and the include directories read-only, the directory of the
 * user's sieve log read-write. Returns how many were written. f may be NULL.
 */
size_t lda_filter_sandbox_paths(const struct lda_filter *f, struct sandbox_path *paths, size_t max);

/*
 * Decides what happens to the message and does it, inside the sandbox:
 * runs d->filter's scripts on d->msg with d's envelope (or keeps the
 * message when d->filter is NULL), stores through lda_deliver_store() and
 * lda_deliver_keep(), sends redirects, vacation replies and reject bounces
 * through the submission helper, and records them in the user's duplicate
 * database. A script that fails to compile or run keeps the message in
 * the default mailbox, logs the error with file:line:column and appends it
 * to the user's sieve log. Sets d->status (TEMPFAIL when the store or a
 * redirect failed temporarily) and frees d->filter.
 */
void lda_filter_run(struct lda_delivery *d);

/*
 * How deep roost-lda is inside malloc() and friends (maintained by the
 * wrappers in lda/malloc-guard.c, linked into roost-lda only), so that the
 * CPU-time backstop never jumps out of the allocator. The wrappers call
 * lda_backstop_malloc_left() when the depth is back to zero: it makes the
 * jump the backstop deferred, if any.
 */
extern volatile sig_atomic_t lda_backstop_malloc_depth;
void lda_backstop_malloc_left(void);

#endif
