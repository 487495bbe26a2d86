/*
 * Public interface of roost's Sieve engine (RFC 5228 and extensions): compile
 * scripts, run them against one message and get back the actions to take.
 * Runs inside roost-lda after its sandbox is up and in roostadm; it trusts
 * neither the scripts (written by users) nor the messages (from the internet)
 * and reaches the outside world only through the callbacks declared here.
 *
 * A delivery goes: sieve_settings_create() and sieve_settings_set() for each
 * plugin setting; sieve_script_files_resolve() (sieve-files.h) for the
 * scripts; sieve_compile_file() for each; sieve_exec_create() with the
 * message (sieve-message.h) and envelope; sieve_exec_run() per script
 * (sieve_exec_abort() for one that did not compile); sieve_exec_result();
 * sieve_result_decide(); perform the actions (sieve-compose.h builds the
 * outgoing mail, sieve_result_apply_edits() the stored copy);
 * sieve_result_commit(); sieve_exec_free().
 */
#ifndef ROOST_SIEVE_H
#define ROOST_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "pool.h"

/*
 * Limits. Setting names follow Pigeonhole so an administrator's plugin { }
 * block carries over; hitting one is a clean compile or runtime error.
 */
#define SIEVE_DEFAULT_MAX_SCRIPT_SIZE	   (1024 * 1024)
#define SIEVE_DEFAULT_MAX_ACTIONS	   32
#define SIEVE_DEFAULT_MAX_REDIRECTS	   4
#define SIEVE_DEFAULT_MAX_CPU_TIME	   30 /* seconds; 0 = unlimited */
#define SIEVE_DEFAULT_INCLUDE_MAX_INCLUDES 255
#define SIEVE_DEFAULT_INCLUDE_MAX_DEPTH	   10
#define SIEVE_DEFAULT_MAX_SCOPE_SIZE	   255
#define SIEVE_DEFAULT_MAX_VARIABLE_SIZE	   4096
#define SIEVE_DEFAULT_EDITHEADER_MAX_SIZE  2048
/* Deepest nesting of blocks or of tests inside tests. */
#define SIEVE_MAX_NESTING 32
/* Most errors collected from one script before giving up. */
#define SIEVE_MAX_ERRORS 30
/* Most bytes a compiled script's pool may use. */
#define SIEVE_MAX_SCRIPT_MEMORY (64 * 1024 * 1024)
/* Most bytes one message evaluation may allocate (values, match results). */
#define SIEVE_MAX_RUNTIME_MEMORY (64 * 1024 * 1024)
/* Most scripts in one sieve_before + user + sieve_after sequence. */
#define SIEVE_MAX_SEQUENCE 64
/* Most numbered sieve_before / sieve_after settings (sieve_before2 ...). */
#define SIEVE_MAX_LOCATIONS 16

/* Extensions, by Pigeonhole's capability names. */
enum sieve_ext {
	SIEVE_EXT_FILEINTO,
	SIEVE_EXT_ENVELOPE,
	SIEVE_EXT_ENCODED_CHARACTER,
	SIEVE_EXT_REJECT,
	SIEVE_EXT_EREJECT,
	SIEVE_EXT_VACATION,
	SIEVE_EXT_VACATION_SECONDS,
	SIEVE_EXT_IMAP4FLAGS,
	SIEVE_EXT_VARIABLES,
	SIEVE_EXT_BODY,
	SIEVE_EXT_COPY,
	SIEVE_EXT_INCLUDE,
	SIEVE_EXT_MAILBOX,
	SIEVE_EXT_SUBADDRESS,
	SIEVE_EXT_RELATIONAL,
	SIEVE_EXT_REGEX,
	SIEVE_EXT_DATE,
	SIEVE_EXT_INDEX,
	SIEVE_EXT_EDITHEADER,
	SIEVE_EXT_DUPLICATE,
	SIEVE_EXT_ENVIRONMENT,
	SIEVE_EXT_SPAMTEST,
	SIEVE_EXT_SPAMTESTPLUS,
	SIEVE_EXT_VIRUSTEST,
	SIEVE_EXT_IHAVE,
	SIEVE_EXT_CMP_NUMERIC,
	SIEVE_EXT_CMP_OCTET,
	SIEVE_EXT_CMP_CASEMAP,
	SIEVE_EXT_COUNT
};

/* Capability name of an extension ("comparator-i;ascii-numeric" ...), static. */
const char *sieve_ext_name(enum sieve_ext ext);
/* Looks a capability up by name; false when roost does not know it. */
bool sieve_ext_lookup(const char *name, enum sieve_ext *ext_r);

/* How spamtest/virustest read the scanner's verdict from the message. */
enum sieve_scantest_type {
	SIEVE_SCANTEST_NONE,
	SIEVE_SCANTEST_SCORE,
	SIEVE_SCANTEST_STRLEN,
	SIEVE_SCANTEST_TEXT,
};

struct sieve_scantest_settings {
	enum sieve_scantest_type status_type;
	const char *status_header; /* "Header" or "Header: regex" */
	const char *max_header;
	const char *max_value; /* decimal, e.g. "5.0" */
	const char *text_value[11];
};

/*
 * Everything configurable, under Pigeonhole's setting names. Create with
 * sieve_settings_create() (defaults filled in), change with
 * sieve_settings_set(); strings belong to the settings object.
 */
struct sieve_settings {
	struct pool *pool;
	size_t max_script_size;		   /* sieve_max_script_size */
	unsigned int max_actions;	   /* sieve_max_actions */
	unsigned int max_redirects;	   /* sieve_max_redirects */
	unsigned int max_cpu_time;	   /* sieve_max_cpu_time, seconds */
	unsigned int include_max_includes; /* sieve_include_max_includes */
	unsigned int include_max_depth;	   /* sieve_include_max_nesting_depth */
	unsigned int variables_max_scope_size;
	size_t variables_max_variable_size;
	size_t editheader_max_header_size;
	const char *editheader_protected; /* space-separated header names */
	bool extensions[SIEVE_EXT_COUNT]; /* sieve_extensions */
	const char *recipient_delimiter;  /* recipient_delimiter, default "+" */
	const char *default_mailbox;	  /* "INBOX" */
	/* vacation (RFC 5230, RFC 6131) */
	uint64_t vacation_min_period; /* seconds, default 1d */
	uint64_t vacation_max_period; /* 0 = unlimited */
	uint64_t vacation_default_period;
	const char *vacation_default_subject;
	const char *vacation_default_subject_template;
	bool vacation_use_original_recipient;
	bool vacation_dont_check_recipient;
	bool vacation_send_from_recipient;
	bool vacation_to_header_ignore_envelope;
	unsigned int vacation_max_subject_codepoints;
	/* duplicate (RFC 7352) */
	uint64_t duplicate_default_period;
	uint64_t duplicate_max_period;
	const char *redirect_envelope_from; /* sieve_redirect_envelope_from */
	const char *user_email;		    /* sieve_user_email */
	const char *postmaster_address;
	/* environment (RFC 5183) */
	const char *env_domain;
	const char *env_host;
	struct sieve_scantest_settings spamtest;
	struct sieve_scantest_settings virustest;
	/* Script locations, in Pigeonhole's "[file:]PATH[;active=PATH]" form;
	   "~/" is the user's home. */
	const char *sieve;	   /* sieve: the user's script or script dir */
	const char *sieve_default; /* sieve_default (old name sieve_global_path) */
	const char *sieve_dir;	   /* sieve_dir: old :personal include dir */
	const char *sieve_global;  /* sieve_global / sieve_global_dir */
	const char *sieve_before[SIEVE_MAX_LOCATIONS]; /* sieve_before, sieve_before2 ... */
	const char *sieve_after[SIEVE_MAX_LOCATIONS];
	const char *user_log; /* sieve_user_log */
};

/* New settings with Pigeonhole's defaults; free with sieve_settings_free(). */
struct sieve_settings *sieve_settings_create(void);
/* Frees the settings and their strings; *set becomes NULL. */
void sieve_settings_free(struct sieve_settings **set);
/*
 * Sets one setting by its Pigeonhole name ("sieve_max_actions", a leading
 * "plugin/" is accepted). Returns 1 when set, 0 when the name is not a Sieve
 * setting (the caller may know it), -1 with *error_r for a bad value.
 */
int sieve_settings_set(struct sieve_settings *set, const char *name, const char *value,
		       const char **error_r);
/*
 * Applies a sieve_extensions value: "+editheader -vacation" changes the
 * current set; a list without +/- replaces it. Unknown names are an error.
 */
bool sieve_settings_set_extensions(struct sieve_settings *set, const char *spec,
				   const char **error_r);

/*
 * Compile errors and warnings, collected in order. Each message is
 * "NAME:LINE:COLUMN: error: TEXT" (or warning).
 */
struct sieve_error_list {
	struct buf text; /* every message, one per line */
	unsigned int errors;
	unsigned int warnings;
};

/* Prepares an empty list (bounded to 256 kB of text). */
void sieve_error_list_init(struct sieve_error_list *errs);
/* Frees the text; the list may be initialised again. */
void sieve_error_list_free(struct sieve_error_list *errs);

/* A compiled script: immutable after compilation, reusable for any message. */
struct sieve_script;
struct sieve_env_ops;

/*
 * Compiles script text. name is used in messages (usually the file name).
 * Returns NULL when the script is invalid; every error found (up to
 * SIEVE_MAX_ERRORS) is appended to errs. The settings must outlive the script.
 */
struct sieve_script *sieve_compile(const struct sieve_settings *set, const char *name,
				   const void *data, size_t size, struct sieve_error_list *errs);
/* Reads and compiles a file (size checked against sieve_max_script_size). */
struct sieve_script *sieve_compile_file(const struct sieve_settings *set, const char *path,
					const char *name, struct sieve_error_list *errs);
/* Frees a compiled script (NULL is fine); *script becomes NULL. */
void sieve_script_free(struct sieve_script **script);
/* The name given at compile time, as used in messages. */
const char *sieve_script_name(const struct sieve_script *script);
/*
 * Compiles the scripts a script includes (and theirs), through the same
 * loader the interpreter uses, and reports into errs what would fail at
 * delivery: missing scripts (unless :optional), compile errors, circular
 * includes and the include limits. Returns true when everything resolves.
 */
bool sieve_check_includes(const struct sieve_script *script, const struct sieve_env_ops *env,
			  void *env_ctx, struct sieve_error_list *errs);

/*
 * The message as the interpreter sees it. Implemented on top of roost's
 * message parser (sieve-message.c) or by tests. Every callback returns -1 on
 * an internal failure (I/O), which stops the script with a runtime error.
 */
struct sieve_header_field {
	const char *name;  /* field name as written, NUL-terminated */
	const char *value; /* unfolded raw value, leading whitespace removed */
	size_t value_len;
	/* The whole field as in the message (name to final CRLF), or NULL. */
	const char *raw;
	size_t raw_len;
};

struct sieve_address {
	const char *local_part; /* NULL for an unparsable value */
	const char *domain;	/* NULL when the address has no domain */
};

struct sieve_body_part {
	const char *content_type; /* lowercased "type/subtype" */
	const char *text;	  /* decoded to UTF-8; NULL for containers */
	size_t text_len;
	bool multipart;	 /* multipart/...: the preamble, then a second entry
			    with the epilogue */
	bool message;	 /* message/rfc822: text is the encapsulated header */
	bool attachment; /* Content-Disposition: attachment */
};

struct sieve_message_ops {
	/* All header fields of the message header, in order. */
	int (*get_header_fields)(void *ctx, const struct sieve_header_field **fields_r,
				 size_t *count_r);
	/* RFC 2047-decodes a header value to UTF-8, allocated from pool. */
	const char *(*decode_header)(void *ctx, struct pool *pool, const char *value, size_t len,
				     size_t *len_r);
	/*
	 * Parses an address-list value into addr-specs from pool. An empty
	 * list is fine; *invalid_r says the value was not a valid list.
	 */
	int (*parse_addresses)(void *ctx, struct pool *pool, const char *value, size_t len,
			       struct sieve_address **addrs_r, size_t *count_r, bool *invalid_r);
	/* Parses an RFC 5322 date-time; false when it is not one. */
	bool (*parse_date)(void *ctx, const char *value, size_t len, time_t *time_r,
			   int *tz_offset_min_r);
	/* Size of the message in octets (RFC 5228 size test). */
	uint64_t (*get_size)(void *ctx);
	/* Every MIME part in depth-first order, decoded (body extension). */
	int (*get_body_parts)(void *ctx, struct pool *pool, const struct sieve_body_part **parts_r,
			      size_t *count_r);
	/* The undecoded body after the header (body :raw). */
	int (*get_raw_body)(void *ctx, const char **data_r, size_t *size_r);
};

/* The SMTP envelope. Paths are bare addresses; "" is the null path <>. */
struct sieve_envelope {
	const char *mail_from;
	const char *rcpt_to;	  /* final recipient */
	const char *orig_rcpt_to; /* original recipient (NULL = rcpt_to) */
	const char *auth_user;
};

enum sieve_include_location {
	SIEVE_INCLUDE_PERSONAL,
	SIEVE_INCLUDE_GLOBAL,
};

/* What the duplicate database is asked about; ids are hashed by the caller. */
enum sieve_dup_kind {
	SIEVE_DUP_TEST,	    /* duplicate test (RFC 7352) */
	SIEVE_DUP_VACATION, /* vacation reply already sent (RFC 5230) */
	SIEVE_DUP_REDIRECT, /* message already redirected to this address */
};

/* The delivery environment; any callback may be NULL (sensible default). */
struct sieve_env_ops {
	/* 1 exists, 0 does not, -1 failure. NULL: only the default mailbox. */
	int (*mailbox_exists)(void *ctx, const char *mailbox);
	/* 1 seen before (and not expired), 0 new, -1 failure. */
	int (*duplicate_check)(void *ctx, enum sieve_dup_kind kind, const void *id, size_t id_len);
	/* Remembers an id until expires. */
	void (*duplicate_mark)(void *ctx, enum sieve_dup_kind kind, const void *id, size_t id_len,
			       time_t expires);
	/*
	 * Loads an included script's text into data (bounded by its max).
	 * Returns 1 found, 0 not found, -1 failure with *error_r.
	 */
	int (*script_load)(void *ctx, enum sieve_include_location location, const char *name,
			   struct buf *data, const char **error_r);
	/* Current time (tests freeze it); NULL: time(NULL). */
	time_t (*now)(void *ctx);
	/* Local UTC offset in minutes at t; NULL: from localtime_r(). */
	int (*tz_offset)(void *ctx, time_t t);
	/* Environment item (RFC 5183) or NULL to use the built-in value. */
	const char *(*env_item)(void *ctx, const char *name);
};

/* Actions in a result. */
enum sieve_action_type {
	SIEVE_ACTION_STORE, /* keep or fileinto */
	SIEVE_ACTION_REDIRECT,
	SIEVE_ACTION_DISCARD,
	SIEVE_ACTION_REJECT, /* reject or ereject */
	SIEVE_ACTION_VACATION,
	/* Remember this message's id for the duplicate test (RFC 7352). */
	SIEVE_ACTION_TRACK_DUPLICATE,
};

struct sieve_vacation {
	uint64_t seconds;    /* minimum period between replies to one sender */
	const char *subject; /* :subject, NULL = default */
	const char *from;    /* :from, NULL = the recipient */
	const char *handle;  /* :handle or the derived default */
	const char *reason;  /* the reply body (a MIME entity with :mime) */
	bool mime;
	const char *const *addresses; /* :addresses */
	unsigned int addresses_count;
	/* Filled in by sieve_result_decide(): */
	const char *reply_to;	   /* envelope recipient of the reply */
	const char *reply_subject; /* Subject of the reply */
	const char *reply_from;	   /* From of the reply */
	const char *in_reply_to;   /* Message-ID being answered, may be NULL */
	const char *references;	   /* References + Message-ID, may be NULL */
};

struct sieve_action {
	enum sieve_action_type type;
	const char *location; /* "SCRIPT: line N" */
	bool keep;	      /* store made by keep (or the implicit keep) */
	bool copy;	      /* :copy */
	/* store */
	const char *mailbox;
	bool create; /* :create */
	bool has_flags;
	const char *const *flags; /* system flags first, as Pigeonhole prints them */
	unsigned int flags_count;
	/* redirect: bare address */
	const char *address;
	/* reject */
	const char *reason;
	bool ereject;
	struct sieve_vacation vacation;
	/* track duplicate: the id to record and until when */
	struct {
		const char *handle; /* :handle or NULL */
		bool last;	    /* :last */
		const char *id;
		size_t id_len;
		time_t expires;
	} duplicate;
	/* Decided by sieve_result_decide(): skip with the reason why, and
	   whether the message must then be kept (a redirect loop). */
	bool skip;
	const char *skip_reason;
	bool skip_keep;
};

enum sieve_status {
	SIEVE_STATUS_OK,
	SIEVE_STATUS_FAILED,   /* runtime error: implicit keep, nothing else */
	SIEVE_STATUS_TEMPFAIL, /* internal failure: defer delivery */
};

/* The outcome of running a script (or a sequence) on one message. */
struct sieve_result;

/*
 * Runs a sequence of compiled scripts on one message, Pigeonhole's way:
 * each script runs only while keep is in effect after the previous one, and
 * a failure stops the sequence with an implicit keep. Everything the
 * callbacks see stays valid until sieve_exec_free().
 */
struct sieve_exec;

struct sieve_exec_params {
	const struct sieve_settings *set;
	const struct sieve_message_ops *msg;
	void *msg_ctx;
	const struct sieve_envelope *envelope;
	const struct sieve_env_ops *env; /* may be NULL */
	void *env_ctx;
	/*
	 * More than one script will run (sieve_before/sieve_after). keep then
	 * only means "continue with the next script" until the end, as in
	 * Pigeonhole: it does not conflict with reject and moves to where it
	 * was last executed.
	 */
	bool sequence;
	/* When set, each script's result is printed as sieve-test does. */
	struct buf *trace;
	bool print_script_names; /* "## Executing script: NAME" headers */
};

/*
 * Starts the sequence for one message. params and everything it points to
 * must stay valid until sieve_exec_free(). Never fails (memory exhaustion
 * is fatal, exit 83; the per-message pool is bounded).
 */
struct sieve_exec *sieve_exec_create(const struct sieve_exec_params *params);
/*
 * Runs one script of the sequence (the last one with last = true). Returns
 * true when the sequence continues (keep still in effect).
 */
bool sieve_exec_run(struct sieve_exec *exec, const struct sieve_script *script, bool last);
/*
 * Records that the next script of the sequence could not be used (it failed
 * to compile: Pigeonhole's "aborted script execution sequence"): the
 * sequence ends here with an implicit keep, after the actions of the
 * scripts that already ran. error is added to sieve_result_errors().
 */
void sieve_exec_abort(struct sieve_exec *exec, const char *error);
/* Ends the sequence; the result stays owned by exec. */
struct sieve_result *sieve_exec_result(struct sieve_exec *exec);
/* Frees exec with its result and included scripts; *exec becomes NULL. */
void sieve_exec_free(struct sieve_exec **exec);

/* OK, FAILED (a script failed: keep) or TEMPFAIL (retry the delivery). */
enum sieve_status sieve_result_status(const struct sieve_result *result);
/* The runtime errors, "NAME:LINE:COLUMN: error: ..." per line; "" if none. */
const char *sieve_result_errors(const struct sieve_result *result);
/* Runtime warnings (the script still ran), same shape; "" if none. */
const char *sieve_result_warnings(const struct sieve_result *result);
/*
 * The final actions in execution order, the implicit keep included as a
 * store action with keep set (INBOX, flags from imap4flags).
 */
unsigned int sieve_result_count(const struct sieve_result *result);
/* Action idx (0-based) or NULL past the end; owned by the result. */
const struct sieve_action *sieve_result_action(const struct sieve_result *result, unsigned int idx);
/* Whether the message ends up stored nowhere and sent nowhere. */
bool sieve_result_discarded(const struct sieve_result *result);
/* Whether addheader/deleteheader changed the header. */
bool sieve_result_header_edited(const struct sieve_result *result);
/*
 * Writes the message with the editheader changes applied: the header as
 * edited (new fields folded and RFC 2047-encoded when needed) followed by
 * the body of raw. raw must be the message the result was computed for.
 */
bool sieve_result_apply_edits(const struct sieve_result *result, const void *raw, size_t raw_size,
			      struct buf *out);

/*
 * Makes the decisions that are taken when the actions are executed rather
 * than when the script runs: whether a vacation reply may be sent to this
 * sender (null sender, own address, lists, Auto-Submitted, Precedence, reply
 * database) and whether a redirect was already done. Skipped actions get
 * skip and skip_reason. Nothing is sent and nothing is recorded.
 */
void sieve_result_decide(struct sieve_result *result);
/*
 * After the caller performed the actions: records vacation replies,
 * redirects and duplicate-test ids in the duplicate database.
 */
void sieve_result_commit(struct sieve_result *result);
/*
 * The same for action idx alone (skipped actions record nothing), so that
 * a delivery can record each reply or redirect as soon as it went out and
 * a retry after a later failure does not send it again.
 */
void sieve_result_commit_action(struct sieve_result *result, unsigned int idx);

/* Appends the "Executed actions:" section of `sieve-test -e`. */
void sieve_result_print_executed(const struct sieve_result *result, struct buf *out);

#endif
