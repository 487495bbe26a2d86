/*
 * Internal types shared by the pieces of the Sieve engine: the syntax tree,
 * the compiled form of strings and tests, the command registry and the
 * runtime state. Used only inside lda/sieve/; nothing here is trusted input,
 * everything was checked by the lexer, parser or validator that built it.
 */
#ifndef ROOST_SIEVE_PRIVATE_H
#define ROOST_SIEVE_PRIVATE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "compat.h"
#include "pool.h"
#include "sieve.h"

/* A byte string with its length; s is always NUL-terminated as well. */
struct sieve_str {
	const char *s;
	size_t len;
};

/*
 * Syntax tree (RFC 5228 section 8 grammar). Every node and argument keeps
 * its line and column for messages.
 */
enum sieve_arg_type {
	SIEVE_ARG_NUMBER,
	SIEVE_ARG_STRING,
	SIEVE_ARG_STRLIST,
	SIEVE_ARG_TAG,
};

struct sieve_ast_arg {
	enum sieve_arg_type type;
	unsigned int line, col;
	uint64_t number;
	const char *tag; /* without the leading ':' */
	struct sieve_str *strs;
	unsigned int *str_lines; /* line of each string of a list */
	unsigned int *str_cols;
	unsigned int count; /* strings: 1 for SIEVE_ARG_STRING */
};

struct sieve_cmd_def;

struct sieve_ast_node {
	const char *name;
	unsigned int line, col;
	bool is_test;
	struct sieve_ast_arg *args;
	unsigned int args_count;
	struct sieve_ast_node **tests;
	unsigned int tests_count;
	bool test_list; /* tests were given as "( ... )" */
	struct sieve_ast_node **block;
	unsigned int block_count;
	bool has_block;
	/* Filled in by the validator. */
	const struct sieve_cmd_def *def;
	void *data;
};

/*
 * A string as compiled: either constant or a template with variable and
 * match-value references (RFC 5229) to expand at runtime.
 */
enum sieve_tpart_type {
	SIEVE_TPART_LITERAL,
	SIEVE_TPART_LOCAL,  /* script variable by slot */
	SIEVE_TPART_GLOBAL, /* global variable (include) by slot */
	SIEVE_TPART_MATCH,  /* ${N} */
};

struct sieve_tpart {
	enum sieve_tpart_type type;
	struct sieve_str lit;
	unsigned int index;
};

struct sieve_tstr {
	struct sieve_str lit; /* the value when parts_count == 0 */
	struct sieve_tpart *parts;
	unsigned int parts_count;
	unsigned int line, col;
};

struct sieve_tlist {
	struct sieve_tstr *items;
	unsigned int count;
};

static inline bool sieve_tstr_is_const(const struct sieve_tstr *t)
{
	return t->parts_count == 0;
}

static inline bool sieve_tlist_is_const(const struct sieve_tlist *l)
{
	unsigned int i;

	for (i = 0; i < l->count; i++) {
		if (!sieve_tstr_is_const(&l->items[i]))
			return false;
	}
	return true;
}

/* Comparators (RFC 4790), match types and relational operators. */
enum sieve_cmp {
	SIEVE_CMP_OCTET,
	SIEVE_CMP_CASEMAP,
	SIEVE_CMP_NUMERIC,
};

enum sieve_mt {
	SIEVE_MT_IS,
	SIEVE_MT_CONTAINS,
	SIEVE_MT_MATCHES,
	SIEVE_MT_REGEX,
	SIEVE_MT_VALUE,
	SIEVE_MT_COUNT,
};

enum sieve_rel {
	SIEVE_REL_GT,
	SIEVE_REL_GE,
	SIEVE_REL_LT,
	SIEVE_REL_LE,
	SIEVE_REL_EQ,
	SIEVE_REL_NE,
};

enum sieve_addrpart {
	SIEVE_AP_ALL,
	SIEVE_AP_LOCALPART,
	SIEVE_AP_DOMAIN,
	SIEVE_AP_USER,
	SIEVE_AP_DETAIL,
};

/* A :matches pattern split at its stars (see sieve-match.c). */
struct sieve_glob;

/* How a test compares values with its key list. */
struct sieve_match {
	enum sieve_cmp cmp;
	enum sieve_mt mt;
	enum sieve_rel rel;
	struct sieve_tlist keys;
	/* For constant keys: compiled regexes or globs, one per key. */
	regex_t **regexes;
	struct sieve_glob **globs;
};

/* Which common tagged arguments a command accepts. */
#define SIEVE_TAGS_MATCH    0x01 /* comparator and match types */
#define SIEVE_TAGS_ADDRPART 0x02
#define SIEVE_TAGS_INDEX    0x04 /* :index / :last (index extension) */

enum sieve_param {
	SIEVE_PARAM_NONE,
	SIEVE_PARAM_NUMBER,
	SIEVE_PARAM_STRING,
	SIEVE_PARAM_STRLIST,
};

/* A command-specific tagged argument. */
struct sieve_tag_def {
	const char *name;
	enum sieve_param param;
	int ext; /* extension required, or -1 */
};

/* The positional arguments a command takes. */
#define SIEVE_MAX_POSITIONAL 4
#define SIEVE_MAX_CMD_TAGS   12

/* Arguments of one command after generic validation. */
struct sieve_args {
	struct sieve_match match;
	bool has_match; /* any match/comparator tag given */
	enum sieve_addrpart addrpart;
	uint64_t index; /* 0 = none */
	bool last;
	/* Command-specific tags: presence and parameter by definition order. */
	bool tag_set[SIEVE_MAX_CMD_TAGS];
	const struct sieve_ast_arg *tag_arg[SIEVE_MAX_CMD_TAGS];
	const struct sieve_ast_arg *tag_pos[SIEVE_MAX_CMD_TAGS]; /* the tag itself */
	const struct sieve_ast_arg *pos[SIEVE_MAX_POSITIONAL];
	unsigned int pos_count;
};

struct sieve_validator;
struct sieve_interp;

enum sieve_cmd_kind {
	SIEVE_CMD_COMMAND,
	SIEVE_CMD_TEST,
};

enum sieve_subtests {
	SIEVE_SUBTESTS_NONE,
	SIEVE_SUBTESTS_ONE,
	SIEVE_SUBTESTS_LIST,
};

enum sieve_cmd_control {
	SIEVE_CTRL_NONE,
	SIEVE_CTRL_IF,
	SIEVE_CTRL_ELSIF,
	SIEVE_CTRL_ELSE,
	SIEVE_CTRL_REQUIRE,
};

struct sieve_cmd_def {
	const char *name;
	enum sieve_cmd_kind kind;
	int ext; /* -1 = core */
	unsigned int common_tags;
	const struct sieve_tag_def *tags;
	unsigned int tags_count;
	/* Positional argument types; the last ones may be optional. */
	enum sieve_param pos[SIEVE_MAX_POSITIONAL];
	unsigned int pos_min, pos_max;
	const char *pos_names[SIEVE_MAX_POSITIONAL];
	enum sieve_subtests subtests;
	bool block; /* a block is required */
	enum sieve_cmd_control control;
	/* Checks semantics and builds node->data; false after reporting. */
	bool (*validate)(struct sieve_validator *v, struct sieve_ast_node *node,
			 struct sieve_args *args);
	/* Commands: 0 continue, 1 stop the script, -1 runtime error. */
	int (*execute)(struct sieve_interp *in, const struct sieve_ast_node *node);
	/* Tests: 1 true, 0 false, -1 runtime error. */
	int (*test)(struct sieve_interp *in, const struct sieve_ast_node *node);
};

/* Command tables of the core language and each extension file. */
struct sieve_cmd_table {
	const struct sieve_cmd_def *defs;
	const unsigned int *count;
};

extern const struct sieve_cmd_table sieve_cmd_tables[];
extern const unsigned int sieve_cmd_tables_count;

#define SIEVE_CMD_TABLE_DECLARE(n)                            \
	extern const struct sieve_cmd_def sieve_##n##_cmds[]; \
	extern const unsigned int sieve_##n##_cmds_count
SIEVE_CMD_TABLE_DECLARE(core);
SIEVE_CMD_TABLE_DECLARE(ext_reject);
SIEVE_CMD_TABLE_DECLARE(ext_vacation);
SIEVE_CMD_TABLE_DECLARE(ext_imap4flags);
SIEVE_CMD_TABLE_DECLARE(ext_variables);
SIEVE_CMD_TABLE_DECLARE(ext_body);
SIEVE_CMD_TABLE_DECLARE(ext_include);
SIEVE_CMD_TABLE_DECLARE(ext_misc);
SIEVE_CMD_TABLE_DECLARE(ext_date);
SIEVE_CMD_TABLE_DECLARE(ext_editheader);
SIEVE_CMD_TABLE_DECLARE(ext_duplicate);
SIEVE_CMD_TABLE_DECLARE(ext_spamtest);

/* Variables of one compiled script (RFC 5229). */
#define SIEVE_MAX_MATCH_VALUES 33 /* ${0} to ${32}, as Pigeonhole */

struct sieve_varscope {
	const char **names; /* lowercased */
	unsigned int count;
	unsigned int alloc;
};

struct sieve_include_ref {
	enum sieve_include_location location;
	const char *name;
	bool once;
	bool optional;
	unsigned int line, col;
};

/* A compiled script. */
struct sieve_script {
	struct pool *pool;
	const struct sieve_settings *set;
	const char *name;
	const char *path; /* as given to sieve_compile_file(), or the name */
	struct sieve_ast_node **cmds;
	unsigned int cmds_count;
	bool required[SIEVE_EXT_COUNT];
	struct sieve_varscope locals;
	/* Global variable names this script declares or uses. */
	struct sieve_varscope globals;
	/* Every regex compiled for this script, freed with it. */
	regex_t **regexes;
	unsigned int regexes_count, regexes_alloc;
	/* Scripts this one includes (compiled on first use at runtime). */
	const struct sieve_include_ref **includes;
	unsigned int includes_count, includes_alloc;
};

/* Validator state (sieve-validate.c). */
struct sieve_validator {
	struct sieve_script *script;
	struct sieve_error_list *errs;
	bool failed;
	bool require_done; /* a non-require command was seen */
	unsigned int unknown_reported_count;
	const char *unknown_names[64];
};

void sieve_v_error(struct sieve_validator *v, unsigned int line, unsigned int col, const char *fmt,
		   ...) ATTR_PRINTF(4, 5);
void sieve_v_warning(struct sieve_validator *v, unsigned int line, unsigned int col,
		     const char *fmt, ...) ATTR_PRINTF(4, 5);
/* Compiles one string / list argument into a template. */
bool sieve_v_tstr(struct sieve_validator *v, const struct sieve_ast_arg *arg, unsigned int i,
		  struct sieve_tstr *out);
bool sieve_v_tlist(struct sieve_validator *v, const struct sieve_ast_arg *arg,
		   struct sieve_tlist *out);
/* Finishes the match part of a test: checks and compiles constant keys. */
bool sieve_v_match(struct sieve_validator *v, const struct sieve_ast_node *node,
		   struct sieve_args *args, const struct sieve_ast_arg *keyarg);
bool sieve_v_ext(const struct sieve_validator *v, enum sieve_ext ext);
/* Declares a variable name in the script scope; returns its slot or -1. */
int sieve_v_declare_local(struct sieve_validator *v, const char *name, unsigned int line,
			  unsigned int col);
int sieve_v_declare_global(struct sieve_validator *v, const char *name, unsigned int line,
			   unsigned int col);
bool sieve_v_regex_add(struct sieve_validator *v, regex_t *re);
bool sieve_valid_header_name(const char *name, size_t len);
/* Validates a variable name (identifier, optionally "global." prefix). */
bool sieve_valid_variable_name(const char *name, size_t len);

/* Parsing (sieve-lexer.c, sieve-parser.c). */
bool sieve_parse(struct sieve_script *script, const char *data, size_t size,
		 struct sieve_error_list *errs);
void sieve_errors_add(struct sieve_error_list *errs, const char *script, unsigned int line,
		      unsigned int col, bool warning, const char *fmt, va_list ap)
	ATTR_PRINTF(6, 0);
bool sieve_validate(struct sieve_script *script, struct sieve_error_list *errs);

/* Matching (sieve-match.c). */
struct sieve_glob *sieve_glob_compile(struct pool *pool, const char *key, size_t len,
				      enum sieve_cmp cmp);
/* Match values captured by a successful :matches or :regex. */
struct sieve_matchvals {
	struct sieve_str v[SIEVE_MAX_MATCH_VALUES];
	unsigned int count;
};

/*
 * Compares one value with one key. Returns 1 on match, 0 otherwise. Match
 * values are filled for :matches and :regex when mv is not NULL.
 */
int sieve_match_one(struct pool *pool, const struct sieve_match *m, unsigned int key_idx,
		    const struct sieve_str *key, const struct sieve_str *value,
		    struct sieve_matchvals *mv, const char **error_r);
/* Ordering for relational tests: <0, 0, >0. */
int sieve_cmp_order(enum sieve_cmp cmp, const struct sieve_str *a, const struct sieve_str *b);
bool sieve_rel_holds(enum sieve_rel rel, int order);
int sieve_regex_flags(enum sieve_cmp cmp);
/* Whether compiling re would expand it beyond a safe size (glibc copies
   repeated expressions); such a regex is refused. */
bool sieve_regex_too_complex(const char *re);

/* Runtime (sieve-interp.c). */
struct sieve_action_int;

/* One header field as the script currently sees it (after editheader). */
struct sieve_hfield {
	const char *name;
	struct sieve_str raw; /* unfolded raw value */
	struct sieve_str dec; /* RFC 2047-decoded, NULL s until needed */
	int orig_index;	      /* position in the original header or -1 */
	bool added_last;
};

/* The message, its header cache and the header edits (sieve-msgview.c). */
struct sieve_msgview {
	const struct sieve_message_ops *ops;
	void *ctx;
	struct pool *pool;
	struct sieve_hfield *fields;
	unsigned int count, alloc;
	bool loaded;
	bool edited;
	/* Cache of positions by lowercased name. */
	struct sieve_hcache *cache;
	unsigned int cache_count, cache_alloc;
	const struct sieve_body_part *parts;
	size_t parts_count;
	bool parts_loaded;
	/* Parsed address lists by value (the value strings are stable). */
	struct sieve_addr_cache *addr_cache;
	unsigned int addr_cache_count, addr_cache_alloc;
};

struct sieve_addr_cache {
	const char *value;
	struct sieve_address *addrs;
	size_t count;
	bool invalid;
};

struct sieve_hcache {
	const char *name;
	unsigned int *idx;
	unsigned int count;
};

int sieve_msgview_load(struct sieve_msgview *mv);
/*
 * Values of header name in message order (decoded when decode is set).
 * Returns the count or -1; *vals_r is valid until the next edit.
 */
int sieve_msgview_get(struct sieve_msgview *mv, const char *name, bool decode,
		      struct sieve_str **vals_r);
int sieve_msgview_add(struct sieve_msgview *mv, const char *name, const char *value,
		      size_t value_len, bool last);
void sieve_msgview_delete(struct sieve_msgview *mv, unsigned int i);
/* Positions (in the current view) of the fields named name. */
int sieve_msgview_positions(struct sieve_msgview *mv, const char *name, const unsigned int **idx_r);
bool sieve_msgview_decoded(struct sieve_msgview *mv, unsigned int i, struct sieve_str *out);
int sieve_msgview_body_parts(struct sieve_msgview *mv, const struct sieve_body_part **parts_r,
			     size_t *count_r);
/* The addresses of a header value from sieve_msgview_get(), parsed once. */
int sieve_msgview_addresses(struct sieve_msgview *mv, const struct sieve_str *value,
			    const struct sieve_address **addrs_r, size_t *count_r, bool *invalid_r);

/* Per-run interpreter state. */
struct sieve_interp {
	struct sieve_exec *exec;
	const struct sieve_settings *set;
	const struct sieve_script *script; /* currently running */
	struct pool *pool;		   /* runtime pool */
	struct sieve_msgview *msg;
	struct sieve_result *result;
	struct sieve_str *locals;
	unsigned int locals_count;
	struct sieve_matchvals mv;
	bool mv_enabled;
	bool stopped;  /* stop: ends all processing */
	bool returned; /* return: ends the current included script */
	unsigned int include_depth;
	unsigned int steps;
	struct timespec cpu_start;
	const struct sieve_ast_node *cur; /* for error locations */
};

/* Reports a runtime error at the current command; always returns -1. */
int sieve_rt_error(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt, ...)
	ATTR_PRINTF(3, 4);
void sieve_rt_warning(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt,
		      ...) ATTR_PRINTF(3, 4);
/* A failure of the delivery environment (database, storage): the delivery
   should be retried later rather than kept. Returns -1. */
int sieve_rt_tempfail(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt,
		      ...) ATTR_PRINTF(3, 4);
/* Expands a template; false only on memory exhaustion (runtime error). */
bool sieve_rt_expand(struct sieve_interp *in, const struct sieve_tstr *t, struct sieve_str *out);
bool sieve_rt_expand_list(struct sieve_interp *in, const struct sieve_tlist *l,
			  struct sieve_str **out_r);
/*
 * Matches a list of values against the test's keys, setting match values.
 * Returns 1/0, or -1 after a runtime error.
 */
int sieve_rt_match_values(struct sieve_interp *in, const struct sieve_ast_node *node,
			  const struct sieve_match *m, const struct sieve_str *vals,
			  unsigned int count);
int sieve_rt_exec_block(struct sieve_interp *in, struct sieve_ast_node *const *cmds,
			unsigned int count);
int sieve_rt_test(struct sieve_interp *in, const struct sieve_ast_node *node);
char *sieve_rt_location(struct sieve_interp *in, const struct sieve_ast_node *node);
time_t sieve_rt_now(struct sieve_interp *in);
int sieve_rt_tz_offset(struct sieve_interp *in, time_t t);
/* Assigns a variable (truncated to sieve_variables_max_variable_size). */
bool sieve_rt_assign(struct sieve_interp *in, enum sieve_tpart_type type, unsigned int idx,
		     const char *data, size_t len);
/* Resolves the constant variable name of set/addflag; false after an error. */
bool sieve_v_variable_target(struct sieve_validator *v, const struct sieve_ast_arg *arg,
			     enum sieve_tpart_type *type_r, unsigned int *idx_r);
int sieve_rt_header_values(struct sieve_interp *in, const struct sieve_ast_node *node,
			   const struct sieve_tlist *names, uint64_t index, bool last, bool decode,
			   struct sieve_str **vals_r);
bool sieve_rt_address_part(struct sieve_interp *in, enum sieve_addrpart ap, const char *local,
			   const char *domain, struct sieve_str *out);
const struct sieve_envelope *sieve_rt_envelope(struct sieve_interp *in);
const struct sieve_env_ops *sieve_rt_env_ops(struct sieve_interp *in, void **ctx_r);
/* Runs an included script (include extension). */
int sieve_rt_include(struct sieve_interp *in, const struct sieve_ast_node *node,
		     const struct sieve_include_ref *ref);
/* The imap4flags internal variable. */
struct sieve_flags *sieve_rt_flags(struct sieve_interp *in);

/* Flag sets (imap4flags, RFC 5232). */
struct sieve_flags {
	char **items;
	unsigned int count, alloc;
};

void sieve_flags_clear(struct sieve_flags *f);
/* Adds every space-separated flag in s (duplicates are ignored). */
void sieve_flags_add_str(struct pool *pool, struct sieve_flags *f, const char *s, size_t len);
void sieve_flags_remove_str(struct sieve_flags *f, const char *s, size_t len);
/* Flags as one space-separated string, in the order they were added. */
char *sieve_flags_to_str(struct pool *pool, const struct sieve_flags *f);
/* Valid IMAP flags in Pigeonhole's print order (system flags first). */
const char **sieve_flags_normalize(struct pool *pool, const char *s, size_t len,
				   unsigned int *count_r);

/* Result building (sieve-result.c). */
struct sieve_result *sieve_result_create(const struct sieve_settings *set,
					 struct sieve_msgview *msg,
					 const struct sieve_envelope *env,
					 const struct sieve_env_ops *env_ops, void *env_ctx,
					 bool sequence);
void sieve_result_free(struct sieve_result **result);
struct pool *sieve_result_pool(struct sieve_result *result);
/* Adds an action checking duplicates and conflicts; -1 after an error. */
int sieve_result_add(struct sieve_interp *in, const struct sieve_ast_node *node,
		     const struct sieve_action *act);
/* The same, with the written order of the :copy and :flags side effects. */
int sieve_result_add_ordered(struct sieve_interp *in, const struct sieve_ast_node *node,
			     const struct sieve_action *act, unsigned int copy_order,
			     unsigned int flags_order);
void sieve_result_set_error(struct sieve_result *result, const char *msg);
void sieve_result_set_warning(struct sieve_result *result, const char *msg);
void sieve_result_set_tempfail(struct sieve_result *result);
/* Begins a new script of a sequence; returns whether keep was in effect. */
bool sieve_result_keep_in_effect(const struct sieve_result *result);
void sieve_result_script_start(struct sieve_result *result);
/* Drops the actions of a failed script, leaving earlier scripts' actions. */
void sieve_result_script_failed(struct sieve_result *result);
void sieve_result_print_script(struct sieve_result *result, struct buf *out, bool multiscript);
void sieve_result_finish(struct sieve_result *result, const struct sieve_flags *flags, bool failed);
/* The imap4flags internal variable lives in the result so it spans scripts. */
struct sieve_flags *sieve_result_flags(struct sieve_result *result);
void sieve_result_set_flags_used(struct sieve_result *result);

/* Result internals for the message composers (sieve-compose.c). */
const struct sieve_settings *sieve_result_settings(const struct sieve_result *result);
const struct sieve_envelope *sieve_result_envelope(const struct sieve_result *result);
struct sieve_msgview *sieve_result_msgview(const struct sieve_result *result);

/* Vacation decisions at execution time (ext-vacation.c). */
struct sieve_vacation_ctx {
	const struct sieve_settings *set;
	struct sieve_msgview *msg;
	struct pool *pool;
	const struct sieve_envelope *env;
	const struct sieve_env_ops *env_ops;
	void *env_ctx;
};

void sieve_vacation_decide(struct sieve_vacation_ctx *vc, struct sieve_action *a);
void sieve_vacation_commit(struct sieve_vacation_ctx *vc, const struct sieve_action *a);

/* Addresses in script strings (redirect, vacation :from, :addresses). */
bool sieve_address_parse(struct pool *pool, const char *s, size_t len, const char **local_r,
			 const char **domain_r, const char **error_r);

/* Small helpers (sieve-util.c). */
char *sieve_str_lower(struct pool *pool, const char *s, size_t len);
/* Pigeonhole's str_sanitize: control characters become '?', cut at max. */
char *sieve_sanitize(struct pool *pool, const char *s, size_t max);
/* Duplicates into pool; NULL means the pool limit was hit. */
char *sieve_pstrndup(struct pool *pool, const char *s, size_t len);
/* Growable arrays in a pool: returns false at the pool limit. */
bool sieve_parray_grow(struct pool *pool, void **arr, unsigned int *alloc, unsigned int need,
		       size_t elem);
bool sieve_utf8_valid(const char *s, size_t len);
/* Parses a setting size/period value with optional suffix. */
bool sieve_parse_size(const char *s, uint64_t *v_r);
bool sieve_parse_period(const char *s, uint64_t *v_r);

#endif
