/*
 * Dovecot's passwd-file format (user:password:uid:gid:gecos:home:shell:extra
 * fields) read into a lookup table, plus the passdb/userdb "args" strings
 * that point at such files or describe a static userdb. Runs in roost-auth
 * (read-only on the file, re-read when it changes) and roostadm. The files
 * are the administrator's: parsed strictly, with limits and file:line errors.
 */
#ifndef ROOST_PASSWD_FILE_H
#define ROOST_PASSWD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Defaults for struct passwd_file_limits (a zero field means the default). */
#define PASSWD_FILE_LINE_MAX	8192
#define PASSWD_FILE_ENTRIES_MAX 1000000
#define PASSWD_FILE_SIZE_MAX	(64 * 1024 * 1024)
#define PASSWD_FILE_FIELDS_MAX	64

struct passwd_file_limits {
	size_t line_max;    /* bytes per line, without the newline */
	size_t entries_max; /* users per file */
	size_t size_max;    /* bytes per file */
	size_t fields_max;  /* extra fields per line */
};

/* One extra field: "key=value", or a bare "key" (value NULL), e.g. nologin. */
struct passwd_file_field {
	const char *key;
	const char *value;
};

/*
 * One line of the file. Every string is NUL-terminated and owned by the
 * struct passwd_file; an empty or missing field is NULL. uid and gid are as
 * written (numbers or names: see passwd_file_resolve_uid/gid).
 */
struct passwd_file_entry {
	const char *user;
	const char *password;
	const char *uid;
	const char *gid;
	const char *gecos;
	const char *home;
	const char *shell;
	const struct passwd_file_field *fields;
	size_t field_count;
	unsigned int line;
};

struct passwd_file;

/*
 * Reads and parses the file at path. Refuses the whole file, returning NULL
 * with *error_r = "PATH:LINE: reason" (or "PATH: reason"; caller frees it
 * with free()), when a line is malformed, a user name repeats, or a limit is
 * hit: a half-read user list would lock out whoever came after the bad
 * line without anyone noticing. Blank lines and '#' comments are skipped; a
 * trailing CR is dropped. limits may be NULL for the defaults.
 */
struct passwd_file *passwd_file_read(const char *path, const struct passwd_file_limits *limits,
				     char **error_r);
/* Same, from memory (data need not be NUL-terminated); name prefixes errors. */
struct passwd_file *passwd_file_parse(const char *name, const void *data, size_t size,
				      const struct passwd_file_limits *limits, char **error_r);
void passwd_file_free(struct passwd_file **pf);

/*
 * Whether the file at the path it was read from is no longer the one read
 * (device, inode, size, mtime or ctime differ): 1 changed, 0 same, -1 with
 * *error_r set (free()) when stat() fails, e.g. the file was removed. A
 * struct from passwd_file_parse() has no path and always answers 0.
 */
int passwd_file_changed(const struct passwd_file *pf, char **error_r);

/* The entry of user (exact bytes), or NULL. Valid until passwd_file_free(). */
const struct passwd_file_entry *passwd_file_lookup(const struct passwd_file *pf, const char *user);
size_t passwd_file_count(const struct passwd_file *pf);
/* Entries in file order, for `roostadm user` listings; NULL past the end. */
const struct passwd_file_entry *passwd_file_entry_at(const struct passwd_file *pf, size_t i);

/*
 * The value of extra field key: "" for a bare flag (nologin, nopassword,
 * nodelay), NULL when absent. Keys compare exactly; the last one wins.
 */
const char *passwd_file_entry_get(const struct passwd_file_entry *e, const char *key);

/*
 * passdb/userdb passwd-file args, e.g.
 * "scheme=SHA512-CRYPT username_format=%u /etc/roost/users": options, then
 * an absolute path (which may hold %-variables the caller expands). All
 * strings are the caller's to free with passwd_file_args_free().
 */
struct passwd_file_args {
	char *path;
	char *scheme;	       /* NULL: not given (Dovecot's default is CRYPT) */
	char *username_format; /* NULL: not given (%u) */
};

/* Returns false with *error_r set (free()) for unknown options, unknown schemes, no path. */
bool passwd_file_args_parse(const char *args, struct passwd_file_args *args_r, char **error_r);
void passwd_file_args_free(struct passwd_file_args *args);

/*
 * userdb static args, e.g. "uid=vmail gid=vmail home=/home/vmail/%d/%n
 * allow_all_users=yes mail=maildir:~/Maildir": uid, gid and home pulled
 * out (still unexpanded, names unresolved), allow_all_users parsed, every
 * other key=value kept in fields in order. Free with
 * passwd_file_static_args_free().
 */
struct passwd_file_static_args {
	char *uid;
	char *gid;
	char *home;
	bool allow_all_users;
	struct passwd_file_field *fields;
	size_t field_count;
};

/* Returns false with *error_r set (free()) for a token without '=' or a bad yes/no. */
bool passwd_file_static_args_parse(const char *args, struct passwd_file_static_args *args_r,
				   char **error_r);
void passwd_file_static_args_free(struct passwd_file_static_args *args);

/*
 * A uid or gid as written in a passwd-file or static args: a decimal number,
 * or a name looked up with getpwnam_r/getgrnam_r (which needs NSS files, so
 * call it before entering a sandbox, or in roostadm). Returns false with
 * *error_r set (free()) when the name is unknown or the number is invalid.
 */
bool passwd_file_resolve_uid(const char *s, uid_t *uid_r, char **error_r);
bool passwd_file_resolve_gid(const char *s, gid_t *gid_r, char **error_r);

#endif
