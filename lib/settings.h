/*
 * Typed settings built from a parsed roost.conf (config-parser.h) and
 * validated against settings-defs.h: unknown names and bad values are errors
 * with file and line. Master builds them from the files; every child
 * rebuilds the same structure from the flattened text master hands it, so
 * both sides always agree on what a setting means.
 */
#ifndef ROOST_SETTINGS_H
#define ROOST_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct pool;
struct config_node;

typedef const char *setting_STR;
typedef const char *setting_FILE;
typedef const char *setting_ENUM;
typedef bool setting_BOOL;
typedef unsigned int setting_UINT;
typedef uint64_t setting_SIZE; /* bytes */
typedef uint64_t setting_TIME; /* milliseconds */

#define SETTING_FIELD(type, name, def) setting_##type name;

#include "settings-defs.h"

struct inet_listener_settings {
	const char *name;
	ROOST_INET_LISTENER_SETTINGS(SETTING_FIELD)
};

struct unix_listener_settings {
	const char *path;
	ROOST_UNIX_LISTENER_SETTINGS(SETTING_FIELD)
};

struct service_settings {
	const char *name;
	ROOST_SERVICE_SETTINGS(SETTING_FIELD)
	struct inet_listener_settings *inet_listeners;
	unsigned int inet_listener_count;
	struct unix_listener_settings *unix_listeners;
	unsigned int unix_listener_count;
};

struct mailbox_settings {
	const char *name;
	ROOST_MAILBOX_SETTINGS(SETTING_FIELD)
};

struct namespace_settings {
	const char *name;
	ROOST_NAMESPACE_SETTINGS(SETTING_FIELD)
	struct mailbox_settings *mailboxes;
	unsigned int mailbox_count;
};

struct authdb_settings {
	ROOST_AUTHDB_SETTINGS(SETTING_FIELD)
};

struct plugin_setting {
	const char *key;
	const char *value;
};

struct roost_settings;

struct protocol_settings {
	const char *name;
	/* Global settings with this protocol's overrides applied. */
	const struct roost_settings *set;
};

struct roost_settings {
	ROOST_GLOBAL_SETTINGS(SETTING_FIELD)

	struct service_settings *services;
	unsigned int service_count;
	struct namespace_settings *namespaces;
	unsigned int namespace_count;
	struct authdb_settings *passdbs;
	unsigned int passdb_count;
	struct authdb_settings *userdbs;
	unsigned int userdb_count;
	struct plugin_setting *plugin;
	unsigned int plugin_count;
	struct protocol_settings *protocol_views;
	unsigned int protocol_view_count;

	/* Ignored Dovecot settings and the like, "FILE:LINE: text" lines. */
	const char *warnings;

	/* Private. */
	const struct config_node *tree;
	struct pool *pool;
	bool owns_pool;
};

/*
 * Reads and validates a configuration file. Returns NULL with *error_r
 * set ("FILE:LINE: problem", caller frees with free()) on any error.
 */
struct roost_settings *settings_read_file(const char *path, char **error_r);
/* The same from text (master's flattened copy, tests, fuzzers). */
struct roost_settings *settings_read_text(const char *name, const char *text, size_t len,
					  char **error_r);
/*
 * base_dir as a configuration file sets it, even when its settings do not
 * validate: the last top-level base_dir, else the default. For clients
 * (roost reload, roostadm) that must reach the running master to let it
 * report the file's errors itself. Returns false, with out untouched, when
 * the file cannot be read or its syntax is broken: then nothing says which
 * server it belongs to. Writes at most size bytes to out.
 */
bool settings_find_base_dir(const char *path, char *out, size_t size);
/* Built-in defaults only. */
struct roost_settings *settings_defaults(void);
void settings_free(struct roost_settings **set);

/*
 * Writes the effective configuration in roost.conf syntax. With only_changed
 * it is what `roostadm config -n` prints: the settings differing from the
 * defaults. Secrets (ssl_key_password) are never written unless
 * with_secrets; master uses it when handing settings to a child.
 */
void settings_write(struct buf *out, const struct roost_settings *set, bool only_changed,
		    bool with_secrets);
/*
 * Looks a global setting up by name and writes its value as text; false for
 * an unknown name. Used by `roostadm config NAME`.
 */
bool settings_get_text(const struct roost_settings *set, const char *name, struct buf *out);

/* The global settings as seen by protocol proto (imap, pop3, lda, ...). */
const struct roost_settings *settings_for_protocol(const struct roost_settings *set,
						   const char *proto);
/* The `service NAME { }` settings with defaults filled in; NULL if unknown. */
const struct service_settings *settings_service(const struct roost_settings *set, const char *name);
/* A plugin { } value, or NULL when unset. */
const char *settings_plugin_get(const struct roost_settings *set, const char *key);

/*
 * Reads a FILE setting's value ("<path" or inline text) into out, at most
 * max bytes. Returns false with *error_r (static or from strerror) set.
 */
bool settings_read_file_value(const char *value, size_t max, struct buf *out, const char **error_r);

/*
 * Parsers of the typed values, exposed for reuse (roost-lda options,
 * `roostadm -o`) and unit tests. They return false on invalid input.
 */
bool settings_parse_bool(const char *value, bool *r);
bool settings_parse_uint(const char *value, unsigned int *r);
bool settings_parse_size(const char *value, uint64_t *r);
bool settings_parse_time(const char *value, uint64_t *msecs_r);
/* Formats a size the way Dovecot prints limits: "256 MB", "1 GB", "512 kB". */
void settings_format_size(uint64_t bytes, char *dst, size_t size);

#endif
