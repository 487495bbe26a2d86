/*
 * Logging for every roost process, in Dovecot's line shapes
 * ("imap-login: Info: Login: ...") so existing log tooling keeps working.
 * A process logs either directly (master, roost-lda: syslog or files),
 * through master (sandboxed children: framed lines on fd 2, to which master
 * adds a prefix the child cannot forge), or to stderr (command-line tools).
 */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "compat.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

/* Where log_direct_init() sends lines. Empty strings mean "as log_path". */
struct log_settings {
	const char *log_path;	    /* "syslog", a file, or /dev/stderr */
	const char *info_log_path;  /* "" = same as log_path */
	const char *debug_log_path; /* "" = same as info_log_path */
	const char *syslog_ident;   /* instance_name */
	const char *syslog_facility;
	const char *log_timestamp; /* strftime format for file lines */
	bool debug;		   /* whether debug lines are written at all */
};

/* The longest line a process may send through master; longer is cut. */
#define LOG_LINE_MAX 8192
/* First byte of a framed child log line; the second is the level letter. */
#define LOG_CHILD_MARK '\001'

/* Tools: lines go to stderr as "PREFIX: Level: text" (prefix may be ""). */
void log_init_stderr(const char *prefix);
/* Sandboxed children: framed lines on fd 2, relayed by master. */
void log_init_child(void);
/*
 * Direct writers (master, roost-lda). Opens files before any sandbox.
 * Returns false with *error_r set when a log file cannot be opened; the
 * previous target stays in place then.
 */
bool log_init_direct(const struct log_settings *set, const char **error_r);
/* Reopens log files (after logrotate); a failure keeps the old descriptors. */
void log_reopen(void);
/* Changes the prefix of this process's own lines, e.g. "lda(jdoe): ". */
void log_set_prefix(const char *prefix);
/* Whether debug lines are wanted (children learn it from their settings). */
void log_set_debug(bool enabled);
bool log_debug_enabled(void);
/*
 * From now on a failed syslog send drops the line instead of reconnecting
 * (sandbox_confine() calls it: socket() and connect() are not allowed).
 */
void log_syslog_keep_connection(void);
#ifdef ROOST_TEST_HOOKS
/* Unit tests: talk to this socket instead of /dev/log. */
void log_set_syslog_path(const char *path);
#endif
/* Descriptors the log writer keeps open, so a sandbox can allow them. */
int log_get_fds(int *fds, int max);

void log_debug(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_info(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_warning(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_error(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_printf(enum log_level level, const char *fmt, ...) ATTR_PRINTF(2, 3);
void log_vprintf(enum log_level level, const char *fmt, va_list ap) ATTR_PRINTF(2, 0);

/* Bad input, configuration or environment: log, exit 89. */
ATTR_NORETURN void fatal(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* The same with a chosen exit code (75, 83, 84 ...). */
ATTR_NORETURN void log_fatal_code(int code, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Our own broken invariant: log and abort with a core, no cleanup. */
ATTR_NORETURN void panic(const char *fmt, ...) ATTR_PRINTF(1, 2);

/*
 * Master's relay of a child's line: writes text (len bytes, not
 * NUL-terminated, untrusted) with the given prefix and level. Control
 * characters are replaced so a child cannot forge extra lines.
 */
void log_write_prefixed(enum log_level level, const char *prefix, const char *text, size_t len);

const char *log_level_name(enum log_level level);
/* Maps a framed line's level letter back; false for an unknown letter. */
bool log_level_from_char(char c, enum log_level *level_r);

/* Called just before exit by fatal(); master uses it to clean up pid files. */
void log_set_fatal_callback(void (*cb)(void));

#endif
