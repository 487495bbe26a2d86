/*
 * Typed settings (see settings.h): walks a parsed configuration tree,
 * checks every name against the tables generated from settings-defs.h,
 * parses values, fills in per-service defaults and builds the per-protocol
 * views. Runs in master, roostadm, roost-lda and every child that receives
 * master's flattened settings.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-parser.h"
#include "log.h"
#include "pool.h"
#include "settings.h"
#include "xalloc.h"

#define SETTINGS_POOL_MAX (64 * 1024 * 1024)

enum setting_type { ST_STR, ST_FILE, ST_ENUM, ST_BOOL, ST_UINT, ST_SIZE, ST_TIME };

struct setting_def {
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *def;
};

#define SETTING_DEF(type, name, def) {#name, ST_##type, offsetof(SETTINGS_STRUCT, name), def},

#define SETTINGS_STRUCT struct roost_settings
static const struct setting_def global_defs[] = {ROOST_GLOBAL_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct service_settings
static const struct setting_def service_defs[] = {ROOST_SERVICE_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct inet_listener_settings
static const struct setting_def inet_defs[] = {ROOST_INET_LISTENER_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct unix_listener_settings
static const struct setting_def unix_defs[] = {ROOST_UNIX_LISTENER_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct namespace_settings
static const struct setting_def namespace_defs[] = {ROOST_NAMESPACE_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct mailbox_settings
static const struct setting_def mailbox_defs[] = {ROOST_MAILBOX_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT
#define SETTINGS_STRUCT struct authdb_settings
static const struct setting_def authdb_defs[] = {ROOST_AUTHDB_SETTINGS(SETTING_DEF)};
#undef SETTINGS_STRUCT

struct setting_table {
	const struct setting_def *defs;
	size_t count;
};
#define TABLE(defs)                    \
	{                              \
		defs, N_ELEMENTS(defs) \
	}

static const struct setting_table global_table = TABLE(global_defs);
static const struct setting_table service_table = TABLE(service_defs);
static const struct setting_table inet_table = TABLE(inet_defs);
static const struct setting_table unix_table = TABLE(unix_defs);
static const struct setting_table namespace_table = TABLE(namespace_defs);
static const struct setting_table mailbox_table = TABLE(mailbox_defs);
static const struct setting_table authdb_table = TABLE(authdb_defs);

/* Allowed words of ENUM settings, by setting name. */
static const struct {
	const char *name;
	const char *values[6];
} enum_values[] = {
	{"ssl", {"yes", "no", "required"}},
	{"ssl_min_protocol", {"TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1", "ANY"}},
	{"mail_fsync", {"optimized", "always", "never"}},
	{"type", {"private", "shared", "public"}},
	{"auto", {"no", "create", "subscribe"}},
	{"skip", {"never", "authenticated", "unauthenticated"}},
};

/*
 * Built-in services and what they default to. Listeners named here exist
 * unless the configuration sets their port to 0. A `unix_listener PATH { }`
 * block for a built-in UNIX listener changes only the settings it names;
 * the others keep the listener's own defaults (auth-userdb: mode 0660).
 */
struct service_default {
	const char *name;
	const char *alias; /* Dovecot's name for the same job */
	const char *protocol;
	const char *listeners[2][3];	  /* name, port, ssl */
	const char *unix_listeners[1][2]; /* path, mode */
};

static const struct service_default service_defaults[] = {
	{"policy", "anvil", NULL, {{NULL}}, {{NULL}}},
	{"auth", NULL, NULL, {{NULL}}, {{"auth-userdb", "0660"}}},
	{"imap-login", NULL, "imap", {{"imap", "143", "no"}, {"imaps", "993", "yes"}}},
	{"pop3-login", NULL, "pop3", {{"pop3", "110", "no"}, {"pop3s", "995", "yes"}}},
	{"imap", NULL, "imap", {{NULL}}},
	{"pop3", NULL, "pop3", {{NULL}}},
};

/* Dovecot settings that have no meaning in roost: accepted with a warning. */
static const char *const ignored_settings[] = {
	"mail_attachment_dir",
	"mmap_disable",
	"lock_method",
	"dotlock_use_excl",
	"mail_nfs_storage",
	"mail_nfs_index",
	"mail_cache_min_mail_count",
	"mailbox_idle_check_interval",
	"mail_save_crlf",
	"maildir_stat_dirs",
	"maildir_broken_filename_sizes",
	"mail_prefetch_count",
	"mail_temp_dir",
	"verbose_proctitle",
	"import_environment",
	"ssl_client_ca_dir",
	"ssl_client_ca_file",
	"ssl_verify_client_cert",
	"ssl_require_crl",
	"auth_worker_max_count",
	"auth_gssapi_hostname",
	"auth_krb5_keytab",
	"auth_use_winbind",
	"auth_winbind_helper_path",
	"auth_ssl_require_client_cert",
	"auth_ssl_username_from_cert",
	"auth_stats",
	"login_access_sockets",
	"login_plugins",
	"login_plugin_dir",
	"login_source_ips",
	"login_log_format_elements",
	"login_log_format",
	"login_proxy_max_disconnect_delay",
	"mail_server_comment",
	"mail_server_admin",
	"mail_shared_explicit_inbox",
	"mail_full_filesystem_access",
	"mail_chroot",
	"mail_cache_fields",
	"mail_never_cache_fields",
	"mail_always_cache_fields",
	"pop3_fast_size_lookups",
	"version_ignore",
	"haproxy_trusted_networks",
	"haproxy_timeout",
	"ssl_crypto_device",
	"ssl_cert_username_field",
	"ssl_client_cert",
	"ssl_client_key",
	"ssl_alt_cert",
	"ssl_alt_key",
	"auth_anonymous_username",
	"auth_proxy_self",
	"auth_internal_failure_delay",
	"log_core_filter",
	"log_debug",
	"mail_log_events",
	"imap_metadata",
	"imap_hibernate_timeout",
	"imap_fetch_failure",
	"imap_urlauth_host",
	"imap_urlauth_port",
	"lmtp_save_to_detail_mailbox",
	"lmtp_rcpt_check_quota",
	"lmtp_proxy",
	"lmtp_add_received_header",
	"lmtp_hdr_delivery_address",
	"stats_writer_socket_path",
	"mail_plugin_dir",
	"mail_privileged_group_only",
	"auth_cache_verify_password_with_worker",
	"ssl_options",
	"doveadm_password",
	"doveadm_port",
	"director_servers",
	"director_mail_servers",
	"quota_status_success",
};

/* Dovecot services roost does not have: their blocks are ignored. */
static const char *const ignored_services[] = {
	"auth-worker",
	"log",
	"config",
	"dict",
	"dict-async",
	"stats",
	"old-stats",
	"lmtp",
	"indexer",
	"indexer-worker",
	"imap-urlauth",
	"imap-urlauth-login",
	"imap-urlauth-worker",
	"managesieve",
	"managesieve-login",
	"submission",
	"submission-login",
	"director",
	"doveadm",
	"replicator",
	"aggregator",
	"quota-status",
	"imap-hibernate",
	"ipc",
	"dns_client",
	"dns-client",
	"tcpwrap",
	"health-check",
};

struct settings_ctx {
	struct pool *pool;
	char *error;
	struct buf warnings;
	bool in_master; /* files may be read for "<file" values */
};

static bool ctx_error(struct settings_ctx *ctx, const struct config_node *node, const char *fmt,
		      ...) ATTR_PRINTF(3, 4);
static bool ctx_error(struct settings_ctx *ctx, const struct config_node *node, const char *fmt,
		      ...)
{
	struct buf msg = BUF_INIT(4096);
	va_list ap;

	if (ctx->error != NULL)
		return false;
	(void)buf_printf(&msg, "%s:%u: ", node->file, node->line);
	va_start(ap, fmt);
	(void)buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	ctx->error = i_strdup(buf_cstr(&msg));
	buf_free(&msg);
	return false;
}

static void ctx_warning(struct settings_ctx *ctx, const struct config_node *node, const char *what)
{
	(void)buf_printf(&ctx->warnings, "%s:%u: %s\n", node->file, node->line, what);
}

bool settings_parse_bool(const char *value, bool *r)
{
	static const char *const yes[] = {"yes", "y", "true", "1", "on"};
	static const char *const no[] = {"no", "n", "false", "0", "off"};

	for (size_t i = 0; i < N_ELEMENTS(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*r = true;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*r = false;
			return true;
		}
	}
	return false;
}

/* Parses leading digits; returns the rest of the string or NULL. */
static const char *parse_number(const char *value, uint64_t *r)
{
	uint64_t n = 0;
	const char *p = value;

	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return NULL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	*r = n;
	return p;
}

bool settings_parse_uint(const char *value, unsigned int *r)
{
	uint64_t n;
	const char *rest;

	if (strcmp(value, "unlimited") == 0) {
		*r = UINT_MAX;
		return true;
	}
	rest = parse_number(value, &n);
	if (rest == NULL || *rest != '\0' || n > UINT_MAX)
		return false;
	*r = (unsigned int)n;
	return true;
}

static bool unit_multiply(uint64_t n, uint64_t mul, uint64_t *r)
{
	return !__builtin_mul_overflow(n, mul, r);
}

bool settings_parse_size(const char *value, uint64_t *r)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = {
		{"", 1},
		{"b", 1},
		{"k", 1024ULL},
		{"kb", 1024ULL},
		{"m", 1024ULL * 1024},
		{"mb", 1024ULL * 1024},
		{"g", 1024ULL * 1024 * 1024},
		{"gb", 1024ULL * 1024 * 1024},
		{"t", 1024ULL * 1024 * 1024 * 1024},
		{"tb", 1024ULL * 1024 * 1024 * 1024},
	};
	uint64_t n;
	const char *rest;

	if (strcmp(value, "unlimited") == 0) {
		*r = 0;
		return true;
	}
	rest = parse_number(value, &n);
	if (rest == NULL)
		return false;
	for (size_t i = 0; i < N_ELEMENTS(units); i++) {
		if (strcasecmp(rest, units[i].suffix) == 0)
			return unit_multiply(n, units[i].mul, r);
	}
	return false;
}

bool settings_parse_time(const char *value, uint64_t *msecs_r)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = {
		{"", 1000},	      {"ms", 1},	   {"msec", 1},	       {"msecs", 1},
		{"millisecond", 1},   {"milliseconds", 1}, {"s", 1000},	       {"sec", 1000},
		{"secs", 1000},	      {"second", 1000},	   {"seconds", 1000},  {"m", 60000},
		{"min", 60000},	      {"mins", 60000},	   {"minute", 60000},  {"minutes", 60000},
		{"h", 3600000},	      {"hour", 3600000},   {"hours", 3600000}, {"d", 86400000},
		{"day", 86400000},    {"days", 86400000},  {"w", 604800000},   {"week", 604800000},
		{"weeks", 604800000},
	};
	uint64_t n;
	const char *rest = parse_number(value, &n);

	if (rest == NULL)
		return false;
	for (size_t i = 0; i < N_ELEMENTS(units); i++) {
		if (strcasecmp(rest, units[i].suffix) == 0)
			return unit_multiply(n, units[i].mul, msecs_r);
	}
	return false;
}

void settings_format_size(uint64_t bytes, char *dst, size_t size)
{
	static const char *const names[] = {"B", "kB", "MB", "GB", "TB"};
	size_t i = 0;

	while (i + 1 < N_ELEMENTS(names) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	(void)str_format(dst, size, "%llu %s", (unsigned long long)bytes, names[i]);
}

/* The config syntax for a size: "512M", exact. */
static void format_size_value(uint64_t bytes, struct buf *out)
{
	static const char *const suffix[] = {"", "k", "M", "G", "T"};
	size_t i = 0;

	while (i + 1 < N_ELEMENTS(suffix) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	(void)buf_printf(out, "%llu%s", (unsigned long long)bytes, suffix[i]);
}

static void format_time_value(uint64_t msecs, struct buf *out)
{
	uint64_t secs = msecs / 1000;

	if (msecs % 1000 != 0)
		(void)buf_printf(out, "%llu ms", (unsigned long long)msecs);
	else if (secs != 0 && secs % 86400 == 0)
		(void)buf_printf(out, "%llu %s", (unsigned long long)(secs / 86400),
				 secs == 86400 ? "day" : "days");
	else if (secs != 0 && secs % 3600 == 0)
		(void)buf_printf(out, "%llu %s", (unsigned long long)(secs / 3600),
				 secs == 3600 ? "hour" : "hours");
	else if (secs != 0 && secs % 60 == 0)
		(void)buf_printf(out, "%llu %s", (unsigned long long)(secs / 60),
				 secs == 60 ? "min" : "mins");
	else
		(void)buf_printf(out, "%llu %s", (unsigned long long)secs,
				 secs == 1 ? "sec" : "secs");
}

static bool def_name_eq(const struct setting_def *def, const char *name);

static const char *const *enum_words(const struct setting_def *def)
{
	for (size_t i = 0; i < N_ELEMENTS(enum_values); i++) {
		if (def_name_eq(def, enum_values[i].name))
			return enum_values[i].values;
	}
	return NULL;
}

static void value_format(const struct setting_def *def, const void *base, struct buf *out)
{
	const char *field = (const char *)base + def->offset;

	switch (def->type) {
	case ST_STR:
	case ST_FILE:
	case ST_ENUM:
		(void)buf_append_str(out, *(const char *const *)(const void *)field);
		break;
	case ST_BOOL:
		(void)buf_append_str(out, *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case ST_UINT:
		(void)buf_printf(out, "%u", *(const unsigned int *)(const void *)field);
		break;
	case ST_SIZE:
		format_size_value(*(const uint64_t *)(const void *)field, out);
		break;
	case ST_TIME:
		format_time_value(*(const uint64_t *)(const void *)field, out);
		break;
	}
}

/* Stores a textual value into the field; *problem_r explains a refusal. */
static bool value_store(struct settings_ctx *ctx, const struct setting_def *def, void *base,
			const char *value, const char **problem_r)
{
	char *field = (char *)base + def->offset;
	const char *const *words;

	switch (def->type) {
	case ST_STR:
	case ST_FILE:
		*(const char **)(void *)field = p_strdup(ctx->pool, value);
		return *(const char **)(void *)field != NULL;
	case ST_ENUM:
		words = enum_words(def);
		for (size_t i = 0; words != NULL && i < 6 && words[i] != NULL; i++) {
			if (strcasecmp(words[i], value) == 0) {
				*(const char **)(void *)field = words[i];
				return true;
			}
		}
		*problem_r = "Invalid value";
		return false;
	case ST_BOOL:
		*problem_r = "Invalid boolean (use yes or no)";
		return settings_parse_bool(value, (bool *)(void *)field);
	case ST_UINT:
		*problem_r = "Invalid number";
		return settings_parse_uint(value, (unsigned int *)(void *)field);
	case ST_SIZE:
		*problem_r = "Invalid size (use e.g. 256M, 1G)";
		return settings_parse_size(value, (uint64_t *)(void *)field);
	case ST_TIME:
		*problem_r = "Invalid time interval (use e.g. 2 secs, 1 min)";
		return settings_parse_time(value, (uint64_t *)(void *)field);
	}
	return false;
}

static void table_set_defaults(struct settings_ctx *ctx, const struct setting_table *table,
			       void *base)
{
	const char *problem;

	for (size_t i = 0; i < table->count; i++) {
		if (!value_store(ctx, &table->defs[i], base, table->defs[i].def, &problem))
			panic("Invalid built-in default for %s", table->defs[i].name);
	}
}

/* Length of a setting's name without the keyword-avoiding underscore. */
static int def_name_len(const struct setting_def *def)
{
	size_t len = strlen(def->name);

	return (int)(def->name[len - 1] == '_' ? len - 1 : len);
}

static bool def_name_eq(const struct setting_def *def, const char *name)
{
	size_t len = (size_t)def_name_len(def);

	return strncmp(def->name, name, len) == 0 && name[len] == '\0';
}

/* test_hook exists only in builds made for the test suite. */
static bool def_accepted(const struct setting_def *def)
{
#ifdef ROOST_TEST_HOOKS
	(void)def;
	return true;
#else
	return strcmp(def->name, "test_hook") != 0;
#endif
}

static const struct setting_def *table_find(const struct setting_table *table, const char *name)
{
	for (size_t i = 0; i < table->count; i++) {
		if (def_name_eq(&table->defs[i], name))
			return def_accepted(&table->defs[i]) ? &table->defs[i] : NULL;
	}
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (lb >= N_ELEMENTS(row) || la >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static const char *suggest_name(const struct setting_table *table, const char *name)
{
	const char *best = NULL;
	size_t best_dist = strlen(name) / 4 + 2;

	for (size_t i = 0; i < table->count; i++) {
		size_t d = edit_distance(name, table->defs[i].name);

		if (d < best_dist) {
			best_dist = d;
			best = table->defs[i].name;
		}
	}
	return best;
}

static bool is_ignored(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], name) == 0)
			return true;
	}
	return false;
}

/*
 * A relative "<file" is relative to the directory of the file that names
 * it, so that a configuration tree can be moved as a whole.
 */
static const char *file_value_absolute(struct settings_ctx *ctx, const struct config_node *node)
{
	const char *path = node->value + 1, *slash;

	while (*path == ' ')
		path++;
	if (path[0] == '/' || node->file[0] == '\0')
		return node->value;
	slash = strrchr(node->file, '/');
	if (slash == NULL)
		return node->value;
	return p_strdup_printf(ctx->pool, "<%.*s/%s", (int)(slash - node->file), node->file, path);
}

/* Reads "<file" contents for a plain string setting (master side only). */
static const char *read_value_file(struct settings_ctx *ctx, const struct config_node *node)
{
	struct buf contents = BUF_INIT(1024 * 1024);
	const char *error = "Configuration too large", *value = file_value_absolute(ctx, node);
	char *ret;

	if (value == NULL ||
	    !settings_read_file_value(value, buf_max(&contents), &contents, &error)) {
		ctx_error(ctx, node, "%s: %s", node->key, error);
		buf_free(&contents);
		return NULL;
	}
	while (buf_len(&contents) > 0 && (buf_data(&contents)[buf_len(&contents) - 1] == '\n' ||
					  buf_data(&contents)[buf_len(&contents) - 1] == '\r'))
		buf_truncate(&contents, buf_len(&contents) - 1);
	ret = p_strdup(ctx->pool, buf_cstr(&contents));
	buf_free(&contents);
	return ret;
}

/* Expands "$name" references to the current value of another setting. */
static const char *expand_vars(struct settings_ctx *ctx, const struct setting_table *table,
			       const void *base, const char *value)
{
	struct buf out = BUF_INIT(1024 * 1024);
	const char *p = value;
	char *ret;

	if (strchr(value, '$') == NULL)
		return value;
	while (*p != '\0') {
		const struct setting_def *ref = NULL;
		size_t len = 0;

		if (*p == '$') {
			char name[128];

			while (isalnum((unsigned char)p[1 + len]) || p[1 + len] == '_')
				len++;
			if (len > 0 && str_copy_n(name, sizeof(name), p + 1, len))
				ref = table_find(table, name);
		}
		if (ref == NULL) {
			(void)buf_append_c(&out, (uint8_t)*p++);
			continue;
		}
		value_format(ref, base, &out);
		p += 1 + len;
	}
	ret = p_strdup(ctx->pool, buf_cstr(&out));
	buf_free(&out);
	return ret;
}

/* Applies one `key = value` node to a struct described by table. */
static bool apply_setting(struct settings_ctx *ctx, const struct setting_table *table, void *base,
			  const struct config_node *node, const char *where)
{
	const struct setting_def *def = table_find(table, node->key);
	const char *value = node->value, *problem = "Invalid value";

	if (def == NULL) {
		const char *suggest;

		if (table == &global_table &&
		    is_ignored(ignored_settings, N_ELEMENTS(ignored_settings), node->key)) {
			ctx_warning(ctx, node,
				    p_strdup_printf(ctx->pool,
						    "Ignoring Dovecot setting %s: roost does not "
						    "use it",
						    node->key));
			return true;
		}
		suggest = suggest_name(table, node->key);
		if (suggest != NULL)
			return ctx_error(ctx, node, "Unknown setting%s: %s (did you mean %s?)",
					 where, node->key, suggest);
		return ctx_error(ctx, node, "Unknown setting%s: %s", where, node->key);
	}
	if (def->type != ST_FILE && !node->value_quoted && value[0] == '<') {
		if (!ctx->in_master)
			return ctx_error(ctx, node, "%s: <file values are not allowed here",
					 node->key);
		value = read_value_file(ctx, node);
		if (value == NULL)
			return false;
	}
	if (def->type == ST_FILE && !node->value_quoted && value[0] == '<')
		value = file_value_absolute(ctx, node);
	if (def->type == ST_STR)
		value = expand_vars(ctx, table, base, value);
	if (value == NULL || !value_store(ctx, def, base, value, &problem)) {
		const char *const *words = enum_words(def);

		if (def->type == ST_ENUM && words != NULL)
			return ctx_error(
				ctx, node, "%s: Invalid value '%s' (allowed: %s%s%s%s%s)",
				node->key, node->value, words[0], words[1] != NULL ? ", " : "",
				words[1] != NULL ? words[1] : "", words[2] != NULL ? ", " : "",
				words[2] != NULL ? words[2] : "");
		return ctx_error(ctx, node, "%s: %s: %s", node->key, problem, node->value);
	}
	return true;
}

/* Applies a section's settings; subsections are refused (caller handles). */
static bool apply_flat_section(struct settings_ctx *ctx, const struct setting_table *table,
			       void *base, const struct config_node *section, const char *where)
{
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SECTION)
			return ctx_error(ctx, n, "Unknown section%s: %s", where, n->key);
		if (!apply_setting(ctx, table, base, n, where))
			return false;
	}
	return true;
}

#define GROW(ctx, array, count)                                                \
	((array) = p_realloc((ctx)->pool, (array), sizeof(*(array)) * (count), \
			     sizeof(*(array)) * ((count) + 1)))

static struct service_settings *service_find(struct roost_settings *set, const char *name)
{
	for (unsigned int i = 0; i < set->service_count; i++) {
		if (strcmp(set->services[i].name, name) == 0)
			return &set->services[i];
	}
	return NULL;
}

static struct inet_listener_settings *inet_find(struct service_settings *svc, const char *name)
{
	for (unsigned int i = 0; i < svc->inet_listener_count; i++) {
		if (strcmp(svc->inet_listeners[i].name, name) == 0)
			return &svc->inet_listeners[i];
	}
	return NULL;
}

static struct inet_listener_settings *inet_add(struct settings_ctx *ctx,
					       struct service_settings *svc, const char *name)
{
	struct inet_listener_settings *l;

	if (GROW(ctx, svc->inet_listeners, svc->inet_listener_count) == NULL)
		return NULL;
	l = &svc->inet_listeners[svc->inet_listener_count++];
	memset(l, 0, sizeof(*l));
	l->name = p_strdup(ctx->pool, name);
	table_set_defaults(ctx, &inet_table, l);
	return l;
}

static struct unix_listener_settings *unix_find(struct service_settings *svc, const char *path)
{
	for (unsigned int i = 0; i < svc->unix_listener_count; i++) {
		if (strcmp(svc->unix_listeners[i].path, path) == 0)
			return &svc->unix_listeners[i];
	}
	return NULL;
}

static struct unix_listener_settings *unix_add(struct settings_ctx *ctx,
					       struct service_settings *svc, const char *path)
{
	struct unix_listener_settings *l;

	if (GROW(ctx, svc->unix_listeners, svc->unix_listener_count) == NULL)
		return NULL;
	l = &svc->unix_listeners[svc->unix_listener_count++];
	memset(l, 0, sizeof(*l));
	l->path = p_strdup(ctx->pool, path);
	table_set_defaults(ctx, &unix_table, l);
	return l;
}

/* A socket mode: octal digits, at most 0777 (no set-id or sticky bits). */
static bool unix_mode_valid(const char *mode)
{
	unsigned long value = 0;

	if (mode[0] == '\0' || strlen(mode) > 4)
		return false;
	for (const char *p = mode; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return false;
		value = value * 8 + (unsigned long)(*p - '0');
	}
	return value <= 0777;
}

static bool apply_service(struct settings_ctx *ctx, struct roost_settings *set,
			  const struct config_node *section)
{
	const char *name = section->name;
	struct service_settings *svc;

	for (size_t i = 0; i < N_ELEMENTS(service_defaults); i++) {
		if (service_defaults[i].alias != NULL &&
		    strcmp(service_defaults[i].alias, name) == 0)
			name = service_defaults[i].name;
	}
	svc = service_find(set, name);
	if (svc == NULL) {
		if (is_ignored(ignored_services, N_ELEMENTS(ignored_services), name)) {
			ctx_warning(ctx, section,
				    p_strdup_printf(ctx->pool,
						    "Ignoring service %s: roost has no such "
						    "service",
						    name));
			return true;
		}
		return ctx_error(ctx, section, "Unknown service: %s", section->name);
	}
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SETTING) {
			if (!apply_setting(ctx, &service_table, svc, n, " in service"))
				return false;
		} else if (strcmp(n->key, "inet_listener") == 0) {
			struct inet_listener_settings *l;

			if (n->name[0] == '\0')
				return ctx_error(ctx, n, "inet_listener needs a name");
			l = inet_find(svc, n->name);
			if (l == NULL)
				l = inet_add(ctx, svc, n->name);
			if (l == NULL ||
			    !apply_flat_section(ctx, &inet_table, l, n, " in inet_listener"))
				return ctx_error(ctx, n, "Configuration too large");
		} else if (strcmp(n->key, "unix_listener") == 0) {
			struct unix_listener_settings *l;

			if (n->name[0] == '\0')
				return ctx_error(ctx, n, "unix_listener needs a path");
			l = unix_find(svc, n->name);
			if (l == NULL)
				l = unix_add(ctx, svc, n->name);
			if (l == NULL)
				return ctx_error(ctx, n, "Configuration too large");
			if (!apply_flat_section(ctx, &unix_table, l, n, " in unix_listener"))
				return false;
			if (!unix_mode_valid(l->mode))
				return ctx_error(ctx, n,
						 "unix_listener %s: Invalid mode: %s (expected an "
						 "octal number such as 0660)",
						 l->path, l->mode);
		} else {
			return ctx_error(ctx, n, "Unknown section in service: %s", n->key);
		}
	}
	return true;
}

static struct mailbox_settings *mailbox_add(struct settings_ctx *ctx, struct namespace_settings *ns,
					    const char *name)
{
	struct mailbox_settings *mb;

	for (unsigned int i = 0; i < ns->mailbox_count; i++) {
		if (strcmp(ns->mailboxes[i].name, name) == 0)
			return &ns->mailboxes[i];
	}
	if (GROW(ctx, ns->mailboxes, ns->mailbox_count) == NULL)
		return NULL;
	mb = &ns->mailboxes[ns->mailbox_count++];
	memset(mb, 0, sizeof(*mb));
	mb->name = name;
	table_set_defaults(ctx, &mailbox_table, mb);
	return mb;
}

static struct namespace_settings *namespace_get(struct settings_ctx *ctx,
						struct roost_settings *set, const char *name)
{
	struct namespace_settings *ns;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		if (strcmp(set->namespaces[i].name, name) == 0)
			return &set->namespaces[i];
	}
	if (GROW(ctx, set->namespaces, set->namespace_count) == NULL)
		return NULL;
	ns = &set->namespaces[set->namespace_count++];
	memset(ns, 0, sizeof(*ns));
	ns->name = name;
	table_set_defaults(ctx, &namespace_table, ns);
	return ns;
}

static bool apply_mailbox(struct settings_ctx *ctx, struct namespace_settings *ns,
			  const struct config_node *section)
{
	struct mailbox_settings *mb;

	if (section->name[0] == '\0')
		return ctx_error(ctx, section, "mailbox needs a name");
	mb = mailbox_add(ctx, ns, section->name);
	if (mb == NULL)
		return ctx_error(ctx, section, "Configuration too large");
	return apply_flat_section(ctx, &mailbox_table, mb, section, " in mailbox");
}

static bool apply_namespace(struct settings_ctx *ctx, struct roost_settings *set,
			    const struct config_node *section)
{
	struct namespace_settings *ns = namespace_get(ctx, set, section->name);

	if (ns == NULL)
		return ctx_error(ctx, section, "Configuration too large");
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SETTING) {
			if (!apply_setting(ctx, &namespace_table, ns, n, " in namespace"))
				return false;
		} else if (strcmp(n->key, "mailbox") == 0) {
			if (!apply_mailbox(ctx, ns, n))
				return false;
		} else {
			return ctx_error(ctx, n, "Unknown section in namespace: %s", n->key);
		}
	}
	return true;
}

static bool apply_authdb(struct settings_ctx *ctx, struct authdb_settings **array,
			 unsigned int *count, const struct config_node *section)
{
	struct authdb_settings *db;

	if (GROW(ctx, *array, *count) == NULL)
		return ctx_error(ctx, section, "Configuration too large");
	db = &(*array)[(*count)++];
	memset(db, 0, sizeof(*db));
	table_set_defaults(ctx, &authdb_table, db);
	if (!apply_flat_section(ctx, &authdb_table, db, section,
				strcmp(section->key, "passdb") == 0 ? " in passdb" : " in userdb"))
		return false;
	if (db->driver[0] == '\0')
		return ctx_error(ctx, section, "%s: driver is missing", section->key);
	return true;
}

static bool apply_plugin(struct settings_ctx *ctx, struct roost_settings *set,
			 const struct config_node *section)
{
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		const char *value = n->value;

		if (n->type == CONFIG_NODE_SECTION)
			return ctx_error(ctx, n, "Unknown section in plugin: %s", n->key);
		if (!n->value_quoted && value[0] == '<') {
			if (!ctx->in_master)
				return ctx_error(ctx, n, "%s: <file values are not allowed here",
						 n->key);
			value = read_value_file(ctx, n);
			if (value == NULL)
				return false;
		}
		/* A repeated key replaces the earlier value. */
		unsigned int i;
		for (i = 0; i < set->plugin_count; i++) {
			if (strcmp(set->plugin[i].key, n->key) == 0)
				break;
		}
		if (i == set->plugin_count) {
			if (GROW(ctx, set->plugin, set->plugin_count) == NULL)
				return ctx_error(ctx, n, "Configuration too large");
			set->plugin_count++;
		}
		set->plugin[i].key = n->key;
		set->plugin[i].value = value;
	}
	return true;
}

static bool known_protocol(const char *name)
{
	static const char *const names[] = {"imap",  "pop3",	"lda",	     "lmtp",
					    "sieve", "doveadm", "submission"};
	return is_ignored(names, N_ELEMENTS(names), name);
}

static bool apply_protocols(struct settings_ctx *ctx, struct roost_settings *set,
			    const struct config_node *root)
{
	for (const struct config_node *n = root->children; n != NULL; n = n->next) {
		struct roost_settings *view = NULL;

		if (n->type != CONFIG_NODE_SECTION || strcmp(n->key, "protocol") != 0)
			continue;
		if (!known_protocol(n->name))
			return ctx_error(ctx, n, "Unknown protocol: %s", n->name);
		for (unsigned int i = 0; i < set->protocol_view_count; i++) {
			if (strcmp(set->protocol_views[i].name, n->name) == 0)
				view = (struct roost_settings *)set->protocol_views[i].set;
		}
		if (view == NULL) {
			if (GROW(ctx, set->protocol_views, set->protocol_view_count) == NULL)
				return ctx_error(ctx, n, "Configuration too large");
			view = p_malloc(ctx->pool, sizeof(*view));
			if (view == NULL)
				return ctx_error(ctx, n, "Configuration too large");
			*view = *set;
			view->protocol_views = NULL;
			view->protocol_view_count = 0;
			set->protocol_views[set->protocol_view_count].name = n->name;
			set->protocol_views[set->protocol_view_count++].set = view;
		}
		for (const struct config_node *c = n->children; c != NULL; c = c->next) {
			if (c->type == CONFIG_NODE_SECTION) {
				if (strcmp(c->key, "plugin") == 0) {
					if (!apply_plugin(ctx, view, c))
						return false;
					continue;
				}
				return ctx_error(ctx, c, "Unknown section in protocol: %s", c->key);
			}
			if (!apply_setting(ctx, &global_table, view, c, ""))
				return false;
		}
	}
	return true;
}

static void service_fill_defaults(struct settings_ctx *ctx, const struct roost_settings *set,
				  struct service_settings *svc)
{
	bool login = strstr(svc->name, "-login") != NULL;
	bool mail = strcmp(svc->name, "imap") == 0 || strcmp(svc->name, "pop3") == 0;
	bool single = strcmp(svc->name, "policy") == 0 || strcmp(svc->name, "auth") == 0;

	if (svc->user[0] == '\0') {
		if (login || strcmp(svc->name, "policy") == 0)
			svc->user = set->default_login_user;
		else if (strcmp(svc->name, "auth") == 0)
			svc->user = set->default_internal_user;
	}
	if (svc->group[0] == '\0' && strcmp(svc->name, "auth") == 0)
		svc->group = set->default_internal_group;
	if (svc->chroot[0] == '\0' && (login || strcmp(svc->name, "policy") == 0))
		svc->chroot = "empty";
	if (svc->process_limit == 0)
		svc->process_limit = login    ? set->login_max_processes_count
				     : single ? 1
				     : mail   ? 1024
					      : set->default_process_limit;
	if (svc->client_limit == 0)
		svc->client_limit = mail ? 1 : set->default_client_limit;
	if (svc->vsz_limit == 0)
		svc->vsz_limit = set->default_vsz_limit;
	if (svc->service_count == 0 && mail)
		svc->service_count = 1;
	if (svc->idle_kill == 0)
		svc->idle_kill = set->default_idle_kill;
	/* The listener address defaults to the global listen setting. */
	for (unsigned int i = 0; i < svc->inet_listener_count; i++) {
		if (svc->inet_listeners[i].address[0] == '\0')
			svc->inet_listeners[i].address = set->listen;
	}
	(void)ctx;
}

static bool settings_build(struct settings_ctx *ctx, struct roost_settings *set,
			   const struct config_node *root)
{
	const struct config_node *n;

	table_set_defaults(ctx, &global_table, set);
	/* Built-in services first, so configuration blocks merge into them. */
	for (size_t i = 0; i < N_ELEMENTS(service_defaults); i++) {
		const struct service_default *d = &service_defaults[i];
		struct service_settings *svc;

		if (GROW(ctx, set->services, set->service_count) == NULL)
			return false;
		svc = &set->services[set->service_count++];
		memset(svc, 0, sizeof(*svc));
		svc->name = d->name;
		table_set_defaults(ctx, &service_table, svc);
		for (size_t j = 0; j < N_ELEMENTS(d->listeners) && d->listeners[j][0] != NULL;
		     j++) {
			struct inet_listener_settings *l = inet_add(ctx, svc, d->listeners[j][0]);
			const char *problem;

			if (l == NULL ||
			    !value_store(ctx, &inet_table.defs[1], l, d->listeners[j][1],
					 &problem) ||
			    !value_store(ctx, &inet_table.defs[2], l, d->listeners[j][2], &problem))
				return false;
		}
		for (size_t j = 0;
		     j < N_ELEMENTS(d->unix_listeners) && d->unix_listeners[j][0] != NULL; j++) {
			struct unix_listener_settings *l =
				unix_add(ctx, svc, d->unix_listeners[j][0]);

			if (l == NULL)
				return false;
			l->mode = d->unix_listeners[j][1];
		}
	}

	/* Global settings, in file order. */
	for (n = root->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SETTING &&
		    !apply_setting(ctx, &global_table, set, n, ""))
			return false;
	}
	for (n = root->children; n != NULL; n = n->next) {
		bool ok = true;

		if (n->type != CONFIG_NODE_SECTION)
			continue;
		if (strcmp(n->key, "service") == 0)
			ok = apply_service(ctx, set, n);
		else if (strcmp(n->key, "namespace") == 0)
			ok = apply_namespace(ctx, set, n);
		else if (strcmp(n->key, "mailbox") == 0) {
			struct namespace_settings *ns = namespace_get(ctx, set, "inbox");

			ok = ns != NULL && apply_mailbox(ctx, ns, n);
		} else if (strcmp(n->key, "passdb") == 0)
			ok = apply_authdb(ctx, &set->passdbs, &set->passdb_count, n);
		else if (strcmp(n->key, "userdb") == 0)
			ok = apply_authdb(ctx, &set->userdbs, &set->userdb_count, n);
		else if (strcmp(n->key, "plugin") == 0)
			ok = apply_plugin(ctx, set, n);
		else if (strcmp(n->key, "protocol") == 0)
			continue;
		else if (strcmp(n->key, "service") != 0)
			ok = ctx_error(ctx, n, "Unknown section: %s", n->key);
		if (!ok)
			return false;
	}
	for (unsigned int i = 0; i < set->service_count; i++)
		service_fill_defaults(ctx, set, &set->services[i]);
	/* Protocol views copy the finished global settings, then override. */
	if (!apply_protocols(ctx, set, root))
		return false;
	for (unsigned int i = 0; i < set->protocol_view_count; i++) {
		struct roost_settings *view = (struct roost_settings *)set->protocol_views[i].set;

		view->protocol_views = NULL;
		view->protocol_view_count = 0;
	}
	return ctx->error == NULL;
}

static struct roost_settings *settings_from_tree(struct settings_ctx *ctx,
						 const struct config_node *root, char **error_r)
{
	struct roost_settings *set = p_malloc(ctx->pool, sizeof(*set));

	if (set == NULL || !settings_build(ctx, set, root)) {
		*error_r = ctx->error != NULL ? ctx->error : i_strdup("Configuration too large");
		buf_free(&ctx->warnings);
		pool_destroy(&ctx->pool);
		return NULL;
	}
	set->pool = ctx->pool;
	set->owns_pool = true;
	set->tree = root;
	return set;
}

static struct roost_settings *settings_finish(struct settings_ctx *ctx,
					      const struct config_node *root, char **error_r)
{
	struct roost_settings *set = settings_from_tree(ctx, root, error_r);

	if (set != NULL) {
		set->warnings = p_strdup(set->pool, buf_cstr(&ctx->warnings));
		if (set->warnings == NULL)
			set->warnings = "";
	}
	buf_free(&ctx->warnings);
	return set;
}

struct roost_settings *settings_read_file(const char *path, char **error_r)
{
	struct settings_ctx ctx = {.pool = pool_create(SETTINGS_POOL_MAX), .in_master = true};
	const char *error;
	const struct config_node *root;

	buf_init(&ctx.warnings, 64 * 1024);
	root = config_parse_file(ctx.pool, path, &error);
	if (root == NULL) {
		*error_r = i_strdup(error);
		buf_free(&ctx.warnings);
		pool_destroy(&ctx.pool);
		return NULL;
	}
	return settings_finish(&ctx, root, error_r);
}

bool settings_find_base_dir(const char *path, char *out, size_t size)
{
	struct pool *pool = pool_create(SETTINGS_POOL_MAX);
	const struct config_node *root;
	const char *error, *value = NULL;

	root = config_parse_file(pool, path, &error);
	if (root == NULL) {
		pool_destroy(&pool);
		return false;
	}
	for (const struct config_node *n = root->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SETTING && strcmp(n->key, "base_dir") == 0)
			value = n->value;
	}
	if (value == NULL || value[0] == '\0' || !str_copy(out, size, value)) {
		struct roost_settings *defaults = settings_defaults();

		(void)str_copy(out, size, defaults->base_dir);
		settings_free(&defaults);
	}
	pool_destroy(&pool);
	return true;
}

struct roost_settings *settings_read_text(const char *name, const char *text, size_t len,
					  char **error_r)
{
	struct settings_ctx ctx = {.pool = pool_create(SETTINGS_POOL_MAX)};
	const char *error;
	const struct config_node *root;

	buf_init(&ctx.warnings, 64 * 1024);
	root = config_parse_text(ctx.pool, name, text, len, &error);
	if (root == NULL) {
		*error_r = i_strdup(error);
		buf_free(&ctx.warnings);
		pool_destroy(&ctx.pool);
		return NULL;
	}
	return settings_finish(&ctx, root, error_r);
}

struct roost_settings *settings_defaults(void)
{
	char *error = NULL;
	struct roost_settings *set = settings_read_text("defaults", "", 0, &error);

	if (set == NULL)
		panic("built-in defaults are invalid: %s", error);
	return set;
}

void settings_free(struct roost_settings **_set)
{
	struct roost_settings *set = *_set;
	struct pool *pool;

	if (set == NULL)
		return;
	*_set = NULL;
	pool = set->pool;
	pool_destroy(&pool);
}

const struct roost_settings *settings_for_protocol(const struct roost_settings *set,
						   const char *proto)
{
	for (unsigned int i = 0; i < set->protocol_view_count; i++) {
		if (strcmp(set->protocol_views[i].name, proto) == 0)
			return set->protocol_views[i].set;
	}
	return set;
}

const struct service_settings *settings_service(const struct roost_settings *set, const char *name)
{
	return service_find((struct roost_settings *)set, name);
}

const char *settings_plugin_get(const struct roost_settings *set, const char *key)
{
	for (unsigned int i = 0; i < set->plugin_count; i++) {
		if (strcmp(set->plugin[i].key, key) == 0)
			return set->plugin[i].value;
	}
	return NULL;
}

bool settings_read_file_value(const char *value, size_t max, struct buf *out, const char **error_r)
{
	struct stat st;
	int fd;

	if (value[0] != '<') {
		if (!buf_append_str(out, value)) {
			*error_r = "value too large";
			return false;
		}
		return true;
	}
	value++;
	while (*value == ' ')
		value++;
	fd = open(value, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*error_r = strerror(errno);
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*error_r = "not a regular file";
		return false;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		*error_r = "file too large";
		return false;
	}
	for (;;) {
		uint8_t tmp[4096];
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = strerror(errno);
			close(fd);
			return false;
		}
		if (n == 0)
			break;
		if (!buf_append(out, tmp, (size_t)n)) {
			close(fd);
			*error_r = "file too large";
			return false;
		}
	}
	close(fd);
	return true;
}

/* Printing. */

static bool is_secret(const char *name)
{
	return strcmp(name, "ssl_key_password") == 0;
}

static void write_indent(struct buf *out, unsigned int depth)
{
	for (unsigned int i = 0; i < depth; i++)
		(void)buf_append_str(out, "  ");
}

/*
 * Writes the fields of base that differ from those of defaults (or all of
 * them when defaults is NULL).
 */
static void write_table(struct buf *out, const struct setting_table *table, const void *base,
			const void *defaults, unsigned int depth, bool with_secrets)
{
	struct buf val = BUF_INIT(1024 * 1024), defval = BUF_INIT(1024 * 1024);

	for (size_t i = 0; i < table->count; i++) {
		const struct setting_def *def = &table->defs[i];

		if (!def_accepted(def))
			continue;
		buf_reset(&val);
		value_format(def, base, &val);
		if (defaults != NULL) {
			buf_reset(&defval);
			value_format(def, defaults, &defval);
			if (strcmp(buf_cstr(&val), buf_cstr(&defval)) == 0)
				continue;
		}
		if (!with_secrets && is_secret(def->name) && buf_len(&val) > 0) {
			write_indent(out, depth);
			(void)buf_printf(out, "%.*s = # hidden\n", def_name_len(def), def->name);
			continue;
		}
		write_indent(out, depth);
		(void)buf_printf(out, "%.*s = ", def_name_len(def), def->name);
		config_write_value(out, buf_cstr(&val));
		(void)buf_append_c(out, '\n');
	}
	buf_free(&val);
	buf_free(&defval);
}

static void write_section_name(struct buf *out, const char *key, const char *name,
			       unsigned int depth)
{
	write_indent(out, depth);
	(void)buf_append_str(out, key);
	if (name != NULL && name[0] != '\0') {
		(void)buf_append_c(out, ' ');
		if (strpbrk(name, " \t\"'#{}\\") != NULL) {
			(void)buf_append_c(out, '"');
			for (const char *s = name; *s != '\0'; s++) {
				if (*s == '"' || *s == '\\')
					(void)buf_append_c(out, '\\');
				(void)buf_append_c(out, (uint8_t)*s);
			}
			(void)buf_append_c(out, '"');
		} else {
			(void)buf_append_str(out, name);
		}
	}
	(void)buf_append_str(out, " {\n");
}

static void write_close(struct buf *out, unsigned int depth)
{
	write_indent(out, depth);
	(void)buf_append_str(out, "}\n");
}

/* Writes a section only if it has content (when only_changed). */
static void write_block(struct buf *out, const char *key, const char *name,
			const struct setting_table *table, const void *base, const void *defaults,
			unsigned int depth, bool with_secrets)
{
	struct buf body = BUF_INIT(16 * 1024 * 1024);

	write_table(&body, table, base, defaults, depth + 1, with_secrets);
	if (buf_len(&body) > 0 || defaults == NULL) {
		write_section_name(out, key, name, depth);
		(void)buf_append(out, buf_data(&body), buf_len(&body));
		write_close(out, depth);
	}
	buf_free(&body);
}

/*
 * What svc would hold if its block set nothing: def's values (the built-in
 * service), except those def took from a global default (default_client_limit,
 * login_max_processes_count, default_vsz_limit...), which come from set's
 * globals instead. Compared with this, `config -n` keeps "client_limit = 1000"
 * in a service when default_client_limit is 4000, and re-reading its output
 * gives the same settings.
 */
static void service_reference(struct settings_ctx *ctx, const struct roost_settings *set,
			      const struct roost_settings *defaults,
			      const struct service_settings *def, const char *name,
			      struct service_settings *ref_r)
{
	struct service_settings from_defaults, from_set;

	memset(&from_defaults, 0, sizeof(from_defaults));
	table_set_defaults(ctx, &service_table, &from_defaults);
	from_defaults.name = name;
	from_set = from_defaults;
	service_fill_defaults(ctx, defaults, &from_defaults);
	service_fill_defaults(ctx, set, &from_set);
	if (def == NULL) {
		*ref_r = from_set;
		return;
	}
	*ref_r = *def;
#define REBASE_NUM(f)                          \
	do {                                   \
		if (def->f == from_defaults.f) \
			ref_r->f = from_set.f; \
	} while (0)
#define REBASE_STR(f)                                     \
	do {                                              \
		if (strcmp(def->f, from_defaults.f) == 0) \
			ref_r->f = from_set.f;            \
	} while (0)
	REBASE_NUM(process_limit);
	REBASE_NUM(client_limit);
	REBASE_NUM(service_count);
	REBASE_NUM(vsz_limit);
	REBASE_NUM(idle_kill);
	REBASE_STR(user);
	REBASE_STR(group);
	REBASE_STR(chroot);
#undef REBASE_NUM
#undef REBASE_STR
}

void settings_write(struct buf *out, const struct roost_settings *set, bool only_changed,
		    bool with_secrets)
{
	struct roost_settings *defaults = settings_defaults();
	struct service_settings empty_service;
	struct inet_listener_settings empty_inet;
	struct unix_listener_settings empty_unix;
	struct namespace_settings empty_ns;
	struct mailbox_settings empty_mb;
	struct authdb_settings empty_db;
	struct settings_ctx ctx = {.pool = pool_create(1024 * 1024)};

	memset(&empty_service, 0, sizeof(empty_service));
	table_set_defaults(&ctx, &service_table, &empty_service);
	memset(&empty_inet, 0, sizeof(empty_inet));
	table_set_defaults(&ctx, &inet_table, &empty_inet);
	memset(&empty_unix, 0, sizeof(empty_unix));
	table_set_defaults(&ctx, &unix_table, &empty_unix);
	memset(&empty_ns, 0, sizeof(empty_ns));
	table_set_defaults(&ctx, &namespace_table, &empty_ns);
	memset(&empty_mb, 0, sizeof(empty_mb));
	table_set_defaults(&ctx, &mailbox_table, &empty_mb);
	memset(&empty_db, 0, sizeof(empty_db));
	table_set_defaults(&ctx, &authdb_table, &empty_db);

	write_table(out, &global_table, set, only_changed ? defaults : NULL, 0, with_secrets);

	for (unsigned int i = 0; i < set->service_count; i++) {
		const struct service_settings *svc = &set->services[i];
		const struct service_settings *def = settings_service(defaults, svc->name);
		struct service_settings ref;
		struct buf body = BUF_INIT(1024 * 1024);

		service_reference(&ctx, set, defaults, def, svc->name, &ref);
		write_table(&body, &service_table, svc, only_changed ? &ref : NULL, 1,
			    with_secrets);
		for (unsigned int j = 0; j < svc->inet_listener_count; j++) {
			const struct inet_listener_settings *l = &svc->inet_listeners[j];
			const struct inet_listener_settings *dl = NULL;

			for (unsigned int k = 0; def != NULL && k < def->inet_listener_count; k++) {
				if (strcmp(def->inet_listeners[k].name, l->name) == 0)
					dl = &def->inet_listeners[k];
			}
			write_block(&body, "inet_listener", l->name, &inet_table, l,
				    only_changed ? (dl != NULL ? dl : &empty_inet) : NULL, 1,
				    with_secrets);
		}
		for (unsigned int j = 0; j < svc->unix_listener_count; j++) {
			const struct unix_listener_settings *l = &svc->unix_listeners[j];
			const struct unix_listener_settings *dl = NULL;

			for (unsigned int k = 0; def != NULL && k < def->unix_listener_count; k++) {
				if (strcmp(def->unix_listeners[k].path, l->path) == 0)
					dl = &def->unix_listeners[k];
			}
			write_block(&body, "unix_listener", l->path, &unix_table, l,
				    only_changed ? (dl != NULL ? dl : &empty_unix) : NULL, 1,
				    with_secrets);
		}
		if (buf_len(&body) > 0 || !only_changed) {
			write_section_name(out, "service", svc->name, 0);
			(void)buf_append(out, buf_data(&body), buf_len(&body));
			write_close(out, 0);
		}
		buf_free(&body);
	}
	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct namespace_settings *ns = &set->namespaces[i];

		write_section_name(out, "namespace", ns->name, 0);
		write_table(out, &namespace_table, ns, only_changed ? &empty_ns : NULL, 1,
			    with_secrets);
		for (unsigned int j = 0; j < ns->mailbox_count; j++) {
			write_section_name(out, "mailbox", ns->mailboxes[j].name, 1);
			write_table(out, &mailbox_table, &ns->mailboxes[j],
				    only_changed ? &empty_mb : NULL, 2, with_secrets);
			write_close(out, 1);
		}
		write_close(out, 0);
	}
	for (unsigned int i = 0; i < set->passdb_count; i++)
		write_block(out, "passdb", NULL, &authdb_table, &set->passdbs[i],
			    only_changed ? &empty_db : NULL, 0, with_secrets);
	for (unsigned int i = 0; i < set->userdb_count; i++)
		write_block(out, "userdb", NULL, &authdb_table, &set->userdbs[i],
			    only_changed ? &empty_db : NULL, 0, with_secrets);
	if (set->plugin_count > 0) {
		(void)buf_append_str(out, "plugin {\n");
		for (unsigned int i = 0; i < set->plugin_count; i++) {
			(void)buf_printf(out, "  %s = ", set->plugin[i].key);
			config_write_value(out, set->plugin[i].value);
			(void)buf_append_c(out, '\n');
		}
		(void)buf_append_str(out, "}\n");
	}
	for (unsigned int i = 0; i < set->protocol_view_count; i++) {
		const struct roost_settings *view = set->protocol_views[i].set;
		struct buf body = BUF_INIT(16 * 1024 * 1024);

		/* A protocol block holds what differs from the global value; a
		   block without differences means nothing and is left out. */
		write_table(&body, &global_table, view, set, 1, with_secrets);
		for (unsigned int j = 0; j < view->plugin_count; j++) {
			const char *global = settings_plugin_get(set, view->plugin[j].key);

			if (global != NULL && strcmp(global, view->plugin[j].value) == 0)
				continue;
			(void)buf_printf(&body, "  plugin {\n    %s = ", view->plugin[j].key);
			config_write_value(&body, view->plugin[j].value);
			(void)buf_append_str(&body, "\n  }\n");
		}
		if (buf_len(&body) > 0) {
			write_section_name(out, "protocol", set->protocol_views[i].name, 0);
			(void)buf_append(out, buf_data(&body), buf_len(&body));
			write_close(out, 0);
		}
		buf_free(&body);
	}
	pool_destroy(&ctx.pool);
	settings_free(&defaults);
}

bool settings_get_text(const struct roost_settings *set, const char *name, struct buf *out)
{
	const struct setting_def *def = table_find(&global_table, name);

	if (def == NULL) {
		const char *value = settings_plugin_get(set, name);

		if (value == NULL && strncmp(name, "plugin/", 7) == 0)
			value = settings_plugin_get(set, name + 7);
		if (value == NULL)
			return false;
		(void)buf_append_str(out, value);
		return true;
	}
	value_format(def, set, out);
	return true;
}
