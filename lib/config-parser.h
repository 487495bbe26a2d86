/*
 * Parser for roost.conf, which uses Dovecot's configuration syntax:
 * `key = value`, quoted values, `#` comments, `NAME [ARG] { ... }` sections,
 * `!include`/`!include_try` with globs, `<file` values and `\` line
 * continuation. It produces a tree with file and line on every node; typed
 * validation is settings.c's job. Runs in master (and roostadm, roost-lda);
 * children parse master's flattened copy, never the files.
 */
#ifndef ROOST_CONFIG_PARSER_H
#define ROOST_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct pool;

enum config_node_type {
	CONFIG_NODE_SETTING,
	CONFIG_NODE_SECTION,
};

struct config_node {
	enum config_node_type type;
	const char *key;   /* setting name or section type */
	const char *name;  /* section argument, "" when absent */
	const char *value; /* setting value (quotes removed, escapes applied) */
	bool value_quoted; /* the value was written in quotes */
	const char *file;  /* file the node was read from */
	unsigned int line;
	struct config_node *parent;
	struct config_node *children; /* sections only */
	struct config_node *next;
};

/* Limits that keep a hostile or broken file from exhausting the parser. */
#define CONFIG_MAX_FILE_SIZE	 (4 * 1024 * 1024)
#define CONFIG_MAX_LINE_LENGTH	 (64 * 1024)
#define CONFIG_MAX_DEPTH	 8
#define CONFIG_MAX_INCLUDE_DEPTH 16
#define CONFIG_MAX_NODES	 100000

/*
 * Parses the file at path (following includes) into a tree allocated from
 * pool. Returns the root section (key "") or NULL with *error_r set to a
 * "FILE:LINE: problem" message allocated from pool.
 */
struct config_node *config_parse_file(struct pool *pool, const char *path, const char **error_r);

/*
 * Parses text that came from memory (master's flattened settings, fuzzers).
 * name is used in error messages; includes are refused.
 */
struct config_node *config_parse_text(struct pool *pool, const char *name, const char *text,
				      size_t len, const char **error_r);

/*
 * Writes the tree back in configuration syntax (values quoted when needed),
 * so that config_parse_text() of the result gives the same tree.
 */
void config_write(struct buf *out, const struct config_node *root);
/* Appends value to out, quoted and escaped if it would not parse bare. */
void config_write_value(struct buf *out, const char *value);

#endif
