/*
 * Sieve interpreter: walks a compiled script for one message, expands
 * string templates (variables, match values), evaluates tests and hands
 * actions to the result; runs sequences of scripts the way Pigeonhole runs
 * sieve_before / user / sieve_after. Runs in roost-lda after the sandbox is
 * up; scripts and messages are untrusted, so memory comes from a bounded
 * pool and CPU time is checked against sieve_max_cpu_time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-private.h"
#include "xalloc.h"

struct exec_global {
	const char *name;
	struct sieve_str val;
};

struct exec_include {
	enum sieve_include_location location;
	const char *name;
	struct sieve_script *script; /* NULL: not found */
	bool ran;
	bool active; /* on the include stack right now */
};

struct sieve_exec {
	struct sieve_exec_params p;
	struct pool *pool;
	struct sieve_msgview msg;
	struct sieve_result *result;
	struct timespec cpu_start;
	struct exec_global *globals;
	unsigned int globals_count, globals_alloc;
	struct exec_include *incs;
	unsigned int incs_count, incs_alloc;
	struct sieve_settings *inc_set;
	bool broken; /* a script failed: the sequence ends */
	bool ended;  /* keep no longer in effect: the sequence ends */
	unsigned int scripts_run;
	struct sieve_matchvals mv;
};

static struct timespec cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return ts;
}

char *sieve_rt_location(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	return p_strdup_printf(in->pool, "%s: line %u", in->script->name,
			       node != NULL ? node->line : 0);
}

int sieve_rt_error(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node == NULL)
		node = in->cur;
	sieve_result_set_error(in->result,
			       p_strdup_printf(in->pool, "%s:%u:%u: error: %s", in->script->name,
					       node != NULL ? node->line : 0,
					       node != NULL ? node->col : 0, msg));
	return -1;
}

void sieve_rt_warning(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt,
		      ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node == NULL)
		node = in->cur;
	sieve_result_set_warning(in->result,
				 p_strdup_printf(in->pool, "%s:%u:%u: warning: %s",
						 in->script->name, node != NULL ? node->line : 0,
						 node != NULL ? node->col : 0, msg));
}

int sieve_rt_tempfail(struct sieve_interp *in, const struct sieve_ast_node *node, const char *fmt,
		      ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sieve_result_set_tempfail(in->result);
	return sieve_rt_error(in, node, "%s", msg);
}

time_t sieve_rt_now(struct sieve_interp *in)
{
	const struct sieve_exec_params *p = &in->exec->p;

	if (p->env != NULL && p->env->now != NULL)
		return p->env->now(p->env_ctx);
	return time(NULL);
}

int sieve_rt_tz_offset(struct sieve_interp *in, time_t t)
{
	const struct sieve_exec_params *p = &in->exec->p;
	struct tm tm;

	if (p->env != NULL && p->env->tz_offset != NULL)
		return p->env->tz_offset(p->env_ctx, t);
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

const struct sieve_envelope *sieve_rt_envelope(struct sieve_interp *in)
{
	return in->exec->p.envelope;
}

const struct sieve_env_ops *sieve_rt_env_ops(struct sieve_interp *in, void **ctx_r)
{
	*ctx_r = in->exec->p.env_ctx;
	return in->exec->p.env;
}

struct sieve_flags *sieve_rt_flags(struct sieve_interp *in)
{
	return sieve_result_flags(in->result);
}

/*
 * Variables
 */

static struct sieve_str *global_slot(struct sieve_interp *in, unsigned int idx)
{
	struct sieve_exec *ex = in->exec;
	const char *name;
	unsigned int i;

	if (idx >= in->script->globals.count)
		return NULL;
	name = in->script->globals.names[idx];
	for (i = 0; i < ex->globals_count; i++) {
		if (strcmp(ex->globals[i].name, name) == 0)
			return &ex->globals[i].val;
	}
	if (ex->globals_count >= in->set->variables_max_scope_size)
		return NULL;
	if (!sieve_parray_grow(ex->pool, (void **)&ex->globals, &ex->globals_alloc,
			       ex->globals_count + 1, sizeof(*ex->globals)))
		return NULL;
	ex->globals[ex->globals_count].name = name;
	ex->globals[ex->globals_count].val.s = "";
	ex->globals[ex->globals_count].val.len = 0;
	return &ex->globals[ex->globals_count++].val;
}

/* Returns the storage of a variable part, or NULL. */
static struct sieve_str *var_storage(struct sieve_interp *in, enum sieve_tpart_type type,
				     unsigned int idx)
{
	if (type == SIEVE_TPART_LOCAL)
		return idx < in->locals_count ? &in->locals[idx] : NULL;
	if (type == SIEVE_TPART_GLOBAL)
		return global_slot(in, idx);
	return NULL;
}

/* Assigns a value to a variable, truncated to the maximum variable size. */
bool sieve_rt_assign(struct sieve_interp *in, enum sieve_tpart_type type, unsigned int idx,
		     const char *data, size_t len)
{
	struct sieve_str *var = var_storage(in, type, idx);
	char *copy;

	if (var == NULL)
		return false;
	if (len > in->set->variables_max_variable_size) {
		len = in->set->variables_max_variable_size;
		/* Do not cut a UTF-8 character in half. */
		while (len > 0 && ((unsigned char)data[len] & 0xc0) == 0x80)
			len--;
	}
	copy = p_strndup(in->pool, data, len);
	if (copy == NULL)
		return false;
	var->s = copy;
	var->len = len;
	return true;
}

/* What one part of a template stands for; NULL for a match variable the
   last match did not set. */
static const struct sieve_str *tpart_value(struct sieve_interp *in, const struct sieve_tpart *part)
{
	switch (part->type) {
	case SIEVE_TPART_LITERAL:
		return &part->lit;
	case SIEVE_TPART_LOCAL:
	case SIEVE_TPART_GLOBAL:
		return var_storage(in, part->type, part->index);
	case SIEVE_TPART_MATCH:
		return part->index < in->mv.count ? &in->mv.v[part->index] : NULL;
	}
	return NULL;
}

bool sieve_rt_expand(struct sieve_interp *in, const struct sieve_tstr *t, struct sieve_str *out)
{
	size_t total = 0;
	unsigned int i;
	char *p;

	if (t->parts_count == 0) {
		*out = t->lit;
		return true;
	}
	for (i = 0; i < t->parts_count; i++) {
		const struct sieve_str *v = tpart_value(in, &t->parts[i]);

		if (v != NULL)
			total += v->len;
	}
	p = p_malloc(in->pool, total + 1);
	if (p == NULL)
		return false;
	out->s = p;
	out->len = total;
	for (i = 0; i < t->parts_count; i++) {
		const struct sieve_str *v = tpart_value(in, &t->parts[i]);

		if (v != NULL && v->len > 0) {
			memcpy(p, v->s, v->len);
			p += v->len;
		}
	}
	*p = '\0';
	return true;
}

bool sieve_rt_expand_list(struct sieve_interp *in, const struct sieve_tlist *l,
			  struct sieve_str **out_r)
{
	struct sieve_str *out;
	unsigned int i;

	out = p_malloc_array(in->pool, l->count ? l->count : 1, sizeof(*out));
	if (out == NULL)
		return false;
	for (i = 0; i < l->count; i++) {
		if (!sieve_rt_expand(in, &l->items[i], &out[i]))
			return false;
	}
	*out_r = out;
	return true;
}

/* Keeps captured match values: copies them so they outlive the test. */
static bool mv_store(struct sieve_interp *in, const struct sieve_matchvals *mv)
{
	unsigned int i;

	if (!in->mv_enabled)
		return true;
	for (i = 0; i < mv->count; i++) {
		char *c = p_strndup(in->pool, mv->v[i].s, mv->v[i].len);

		if (c == NULL)
			return false;
		in->mv.v[i].s = c;
		in->mv.v[i].len = mv->v[i].len;
	}
	in->mv.count = mv->count;
	return true;
}

static bool cpu_exceeded(struct sieve_interp *in);

int sieve_rt_match_values(struct sieve_interp *in, const struct sieve_ast_node *node,
			  const struct sieve_match *m, const struct sieve_str *vals,
			  unsigned int count)
{
	struct sieve_str *keys;
	unsigned int v, k;
	bool want_mv = in->mv_enabled && (m->mt == SIEVE_MT_MATCHES || m->mt == SIEVE_MT_REGEX);

	if (!sieve_rt_expand_list(in, &m->keys, &keys))
		return sieve_rt_error(in, node, "out of memory");
	if (m->mt == SIEVE_MT_COUNT) {
		char num[32];
		struct sieve_str cnt;
		const char *err;

		(void)snprintf(num, sizeof(num), "%u", count);
		cnt.s = num;
		cnt.len = strlen(num);
		for (k = 0; k < m->keys.count; k++) {
			if (sieve_match_one(in->pool, m, k, &keys[k], &cnt, NULL, &err) > 0)
				return 1;
		}
		return 0;
	}
	for (v = 0; v < count; v++) {
		for (k = 0; k < m->keys.count; k++) {
			struct sieve_matchvals mv;
			const char *err;
			int ret;

			/* Long value and key lists are where time goes. */
			if ((++in->steps & 1023) == 0 && cpu_exceeded(in))
				return sieve_rt_error(in, node,
						      "execution exceeded CPU time limit");
			mv.count = 0;
			ret = sieve_match_one(in->pool, m, k, &keys[k], &vals[v],
					      want_mv ? &mv : NULL, &err);
			if (ret < 0)
				return sieve_rt_error(in, node, "%s", err);
			if (ret > 0) {
				if (want_mv && !mv_store(in, &mv))
					return sieve_rt_error(in, node, "out of memory");
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Execution
 */

static bool cpu_exceeded(struct sieve_interp *in)
{
	struct timespec now;
	long long ms;

	if (in->set->max_cpu_time == 0)
		return false;
	now = cpu_now();
	ms = (long long)(now.tv_sec - in->exec->cpu_start.tv_sec) * 1000 +
	     (now.tv_nsec - in->exec->cpu_start.tv_nsec) / 1000000;
	return ms > (long long)in->set->max_cpu_time * 1000;
}

int sieve_rt_test(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct sieve_ast_node *saved = in->cur;
	int ret;

	in->cur = node;
	ret = node->def->test(in, node);
	in->cur = saved;
	return ret;
}

int sieve_rt_exec_block(struct sieve_interp *in, struct sieve_ast_node *const *cmds,
			unsigned int count)
{
	bool chain_taken = false;
	unsigned int i;

	for (i = 0; i < count; i++) {
		const struct sieve_ast_node *node = cmds[i];
		int ret = 0;

		in->cur = node;
		if ((++in->steps & 63) == 0 && cpu_exceeded(in))
			return sieve_rt_error(in, node, "execution exceeded CPU time limit");
		switch (node->def->control) {
		case SIEVE_CTRL_REQUIRE:
			continue;
		case SIEVE_CTRL_IF:
			chain_taken = false;
			/* fall through */
		case SIEVE_CTRL_ELSIF:
			if (chain_taken)
				continue;
			ret = sieve_rt_test(in, node->tests[0]);
			if (ret < 0)
				return -1;
			if (ret == 0)
				continue;
			chain_taken = true;
			ret = sieve_rt_exec_block(in, node->block, node->block_count);
			break;
		case SIEVE_CTRL_ELSE:
			if (chain_taken)
				continue;
			chain_taken = true;
			ret = sieve_rt_exec_block(in, node->block, node->block_count);
			break;
		case SIEVE_CTRL_NONE:
			ret = node->def->execute(in, node);
			break;
		}
		if (ret < 0)
			return -1;
		if (ret > 0 || in->stopped || in->returned)
			return 1;
	}
	return 0;
}

static int run_script(struct sieve_exec *ex, struct sieve_interp *parent,
		      const struct sieve_script *script, bool *stopped_r)
{
	struct sieve_interp in;
	int ret;

	memset(&in, 0, sizeof(in));
	in.exec = ex;
	in.set = ex->p.set;
	in.script = script;
	in.pool = ex->pool;
	in.msg = &ex->msg;
	in.result = ex->result;
	in.mv_enabled = script->required[SIEVE_EXT_VARIABLES];
	in.include_depth = parent != NULL ? parent->include_depth + 1 : 0;
	in.steps = parent != NULL ? parent->steps : 0;
	if (script->locals.count > 0) {
		unsigned int i;

		in.locals = p_malloc_array(ex->pool, script->locals.count, sizeof(*in.locals));
		if (in.locals == NULL) {
			in.cur = NULL;
			return sieve_rt_error(&in, NULL, "out of memory");
		}
		for (i = 0; i < script->locals.count; i++) {
			in.locals[i].s = "";
			in.locals[i].len = 0;
		}
		in.locals_count = script->locals.count;
	}
	if (script->required[SIEVE_EXT_IMAP4FLAGS])
		sieve_result_set_flags_used(ex->result);
	ret = sieve_rt_exec_block(&in, script->cmds, script->cmds_count);
	if (parent != NULL)
		parent->steps = in.steps;
	*stopped_r = in.stopped;
	return ret < 0 ? -1 : 0;
}

int sieve_rt_include(struct sieve_interp *in, const struct sieve_ast_node *node,
		     const struct sieve_include_ref *ref)
{
	struct sieve_exec *ex = in->exec;
	struct exec_include *inc = NULL;
	unsigned int i;
	bool stopped = false;
	int ret;

	for (i = 0; i < ex->incs_count; i++) {
		if (ex->incs[i].location == ref->location &&
		    strcmp(ex->incs[i].name, ref->name) == 0) {
			inc = &ex->incs[i];
			break;
		}
	}
	if (inc == NULL) {
		const struct sieve_env_ops *env = ex->p.env;
		struct sieve_error_list errs;
		struct buf data;
		const char *error = NULL;

		if (ex->incs_count >= in->set->include_max_includes) {
			return sieve_rt_error(in, node,
					      "failed to include script '%s': no more than %u "
					      "includes allowed",
					      ref->name, in->set->include_max_includes);
		}
		if (!sieve_parray_grow(ex->pool, (void **)&ex->incs, &ex->incs_alloc,
				       ex->incs_count + 1, sizeof(*ex->incs)))
			return sieve_rt_error(in, node, "out of memory");
		inc = &ex->incs[ex->incs_count++];
		memset(inc, 0, sizeof(*inc));
		inc->location = ref->location;
		inc->name = ref->name;
		if (env == NULL || env->script_load == NULL) {
			ret = 0;
		} else {
			buf_init(&data, in->set->max_script_size);
			ret = env->script_load(ex->p.env_ctx, ref->location, ref->name, &data,
					       &error);
			if (ret > 0) {
				sieve_error_list_init(&errs);
				inc->script = sieve_compile(in->set, ref->name, buf_data(&data),
							    buf_len(&data), &errs);
				if (inc->script == NULL) {
					char *msg = p_strndup(ex->pool, buf_data(&errs.text),
							      buf_len(&errs.text));

					buf_free(&data);
					sieve_error_list_free(&errs);
					ex->incs_count--;
					return sieve_rt_error(in, node,
							      "failed to compile included "
							      "%s script '%s': %s",
							      ref->location == SIEVE_INCLUDE_GLOBAL
								      ? "global"
								      : "personal",
							      ref->name, msg != NULL ? msg : "");
				}
				sieve_error_list_free(&errs);
			}
			buf_free(&data);
		}
		if (ret < 0) {
			ex->incs_count--;
			return sieve_rt_error(
				in, node, "failed to access included %s script '%s': %s",
				ref->location == SIEVE_INCLUDE_GLOBAL ? "global" : "personal",
				ref->name, error != NULL ? error : "unknown error");
		}
	}
	if (inc->script == NULL) {
		if (ref->optional)
			return 0;
		return sieve_rt_error(in, node, "included %s script '%s' does not exist",
				      ref->location == SIEVE_INCLUDE_GLOBAL ? "global" : "personal",
				      ref->name);
	}
	if (inc->active)
		return sieve_rt_error(in, node, "circular include of script '%s'", ref->name);
	if (ref->once && inc->ran)
		return 0;
	if (in->include_depth + 1 > in->set->include_max_depth)
		return sieve_rt_error(in, node, "cannot nest includes deeper than %u levels",
				      in->set->include_max_depth);
	inc->ran = true;
	inc->active = true;
	ret = run_script(ex, in, inc->script, &stopped);
	/* The array may have moved while the included script ran. */
	for (i = 0; i < ex->incs_count; i++) {
		if (ex->incs[i].location == ref->location &&
		    strcmp(ex->incs[i].name, ref->name) == 0)
			ex->incs[i].active = false;
	}
	if (ret < 0)
		return -1;
	if (stopped) {
		in->stopped = true;
		return 1;
	}
	return 0;
}

/*
 * Sequences
 */

struct sieve_exec *sieve_exec_create(const struct sieve_exec_params *params)
{
	struct sieve_exec *ex = i_calloc(1, sizeof(*ex));

	ex->p = *params;
	ex->pool = pool_create(SIEVE_MAX_RUNTIME_MEMORY);
	ex->msg.ops = params->msg;
	ex->msg.ctx = params->msg_ctx;
	ex->msg.pool = ex->pool;
	ex->result = sieve_result_create(params->set, &ex->msg, params->envelope, params->env,
					 params->env_ctx, params->sequence);
	ex->cpu_start = cpu_now();
	return ex;
}

bool sieve_exec_run(struct sieve_exec *ex, const struct sieve_script *script, bool last)
{
	bool stopped = false;
	int ret;

	if (ex->broken || ex->ended)
		return false;
	ex->scripts_run++;
	/* As sieve-test, the header comes before the script runs. */
	if (ex->p.trace != NULL && ex->p.print_script_names) {
		(void)buf_printf(ex->p.trace, "%s## Executing script: %s\n", !last ? "\n" : "",
				 script->path);
	}
	sieve_result_script_start(ex->result);
	ret = run_script(ex, NULL, script, &stopped);
	if (ret < 0) {
		sieve_result_script_failed(ex->result);
		ex->broken = true;
		return false;
	}
	if (ex->p.trace != NULL)
		sieve_result_print_script(ex->result, ex->p.trace, ex->p.print_script_names);
	if (!sieve_result_keep_in_effect(ex->result)) {
		ex->ended = true;
		return false;
	}
	return !last;
}

void sieve_exec_abort(struct sieve_exec *ex, const char *error)
{
	if (ex->broken || ex->ended)
		return;
	sieve_result_script_start(ex->result);
	if (error != NULL)
		sieve_result_set_error(ex->result, error);
	sieve_result_script_failed(ex->result);
	ex->broken = true;
}

struct sieve_result *sieve_exec_result(struct sieve_exec *ex)
{
	sieve_result_finish(ex->result, sieve_result_flags(ex->result), ex->broken);
	return ex->result;
}

void sieve_exec_free(struct sieve_exec **_ex)
{
	struct sieve_exec *ex = *_ex;
	unsigned int i;

	if (ex == NULL)
		return;
	for (i = 0; i < ex->incs_count; i++)
		sieve_script_free(&ex->incs[i].script);
	sieve_result_free(&ex->result);
	pool_destroy(&ex->pool);
	free(ex);
	*_ex = NULL;
}

/*
 * Compilation
 */

/* Line number of an error line "NAME:LINE:COL: ..." (0 when absent). */
static unsigned long error_line(const char *s, size_t len, unsigned long *col_r)
{
	const char *p = memchr(s, ':', len);
	unsigned long line = 0, col = 0;

	*col_r = 0;
	if (p == NULL)
		return 0;
	for (p++; p < s + len && *p >= '0' && *p <= '9'; p++)
		line = line * 10 + (unsigned long)(*p - '0');
	if (p < s + len && *p == ':') {
		for (p++; p < s + len && *p >= '0' && *p <= '9'; p++)
			col = col * 10 + (unsigned long)(*p - '0');
	}
	*col_r = col;
	return line;
}

struct err_line {
	const char *s;
	size_t len;
	unsigned long line, col;
	unsigned int idx;
};

static int err_line_cmp(const void *a, const void *b)
{
	const struct err_line *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Orders the messages added since start by line and column. */
static void sort_errors(struct buf *text, size_t start)
{
	const char *base = (const char *)buf_data(text) + start;
	size_t len = buf_len(text) - start, off = 0;
	struct err_line *lines;
	unsigned int n = 0, i;
	struct buf sorted;

	if (len == 0)
		return;
	lines = i_calloc(len, sizeof(*lines));
	while (off < len) {
		const char *nl = memchr(base + off, '\n', len - off);
		size_t l = nl != NULL ? (size_t)(nl - (base + off)) + 1 : len - off;

		lines[n].s = base + off;
		lines[n].len = l;
		lines[n].line = error_line(base + off, l, &lines[n].col);
		lines[n].idx = n;
		n++;
		off += l;
	}
	qsort(lines, n, sizeof(*lines), err_line_cmp);
	buf_init(&sorted, len + 1);
	for (i = 0; i < n; i++)
		(void)buf_append(&sorted, lines[i].s, lines[i].len);
	buf_truncate(text, start);
	(void)buf_append(text, buf_data(&sorted), buf_len(&sorted));
	buf_free(&sorted);
	free(lines);
}

struct sieve_script *sieve_compile(const struct sieve_settings *set, const char *name,
				   const void *data, size_t size, struct sieve_error_list *errs)
{
	struct sieve_script *script;
	struct pool *pool;
	size_t start;
	bool parsed, valid;

	if (size > set->max_script_size) {
		if (errs != NULL) {
			(void)buf_printf(&errs->text,
					 "%s: error: script is too large (max %zu bytes)\n", name,
					 set->max_script_size);
			errs->errors++;
		}
		return NULL;
	}
	pool = pool_create(SIEVE_MAX_SCRIPT_MEMORY);
	script = p_malloc(pool, sizeof(*script));
	if (script == NULL) {
		pool_destroy(&pool);
		return NULL;
	}
	script->pool = pool;
	script->set = set;
	script->name = p_strdup(pool, name);
	script->path = script->name;
	if (script->name == NULL) {
		sieve_script_free(&script);
		return NULL;
	}
	start = errs != NULL ? buf_len(&errs->text) : 0;
	/* What could be parsed is validated too, so that one run reports
	   every error; the script is refused either way. */
	parsed = sieve_parse(script, data, size, errs);
	valid = sieve_validate(script, errs);
	if (errs != NULL)
		sort_errors(&errs->text, start);
	if (!parsed || !valid) {
		sieve_script_free(&script);
		return NULL;
	}
	return script;
}

struct sieve_script *sieve_compile_file(const struct sieve_settings *set, const char *path,
					const char *name, struct sieve_error_list *errs)
{
	struct sieve_script *script;
	struct buf data;
	FILE *f;
	size_t max = set->max_script_size == SIZE_MAX ? SIZE_MAX - 1 : set->max_script_size;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errs != NULL) {
			(void)buf_printf(&errs->text, "%s: error: failed to open script: %m\n",
					 name);
			errs->errors++;
		}
		return NULL;
	}
	buf_init(&data, max + 1);
	for (;;) {
		uint8_t *p = buf_reserve(&data, 8192);
		size_t n;

		if (p == NULL) {
			p = buf_reserve(&data, 1);
			if (p == NULL) {
				/* More than the maximum: let sieve_compile report it. */
				break;
			}
			n = fread(p, 1, 1, f);
		} else {
			n = fread(p, 1, 8192, f);
		}
		if (n == 0)
			break;
		buf_commit(&data, n);
	}
	if (ferror(f)) {
		if (errs != NULL) {
			(void)buf_printf(&errs->text, "%s: error: failed to read script: %m\n",
					 name);
			errs->errors++;
		}
		(void)fclose(f);
		buf_free(&data);
		return NULL;
	}
	(void)fclose(f);
	script = sieve_compile(set, name, buf_data(&data),
			       buf_len(&data) > max ? max + 1 : buf_len(&data), errs);
	if (script != NULL)
		script->path = p_strdup(script->pool, path);
	buf_free(&data);
	return script;
}

void sieve_script_free(struct sieve_script **_script)
{
	struct sieve_script *script = *_script;
	struct pool *pool;
	unsigned int i;

	if (script == NULL)
		return;
	for (i = 0; i < script->regexes_count; i++)
		regfree(script->regexes[i]);
	pool = script->pool;
	pool_destroy(&pool);
	*_script = NULL;
}

const char *sieve_script_name(const struct sieve_script *script)
{
	return script->name;
}

/*
 * Include checking for `sieve check`
 */

struct check_state {
	const struct sieve_env_ops *env;
	void *env_ctx;
	struct sieve_error_list *errs;
	const char *stack[SIEVE_DEFAULT_INCLUDE_MAX_DEPTH * 4];
	unsigned int depth;
	unsigned int total;
	bool ok;
};

static void ATTR_PRINTF(4, 5) check_error(struct check_state *cs, const struct sieve_script *s,
					  const struct sieve_include_ref *ref, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sieve_errors_add(cs->errs, s->name, ref->line, ref->col, false, fmt, ap);
	va_end(ap);
	cs->ok = false;
}

static void check_script(struct check_state *cs, const struct sieve_script *s)
{
	unsigned int i, k;

	for (i = 0; i < s->includes_count; i++) {
		const struct sieve_include_ref *ref = s->includes[i];
		const char *where = ref->location == SIEVE_INCLUDE_GLOBAL ? "global" : "personal";
		const char *error = "script location is not configured";
		struct sieve_error_list sub;
		struct sieve_script *inc;
		struct buf data;
		int ret = -1;

		for (k = 0; k < cs->depth; k++) {
			if (strcmp(cs->stack[k], ref->name) == 0)
				break;
		}
		if (k < cs->depth || strcmp(ref->name, s->name) == 0) {
			check_error(cs, s, ref, "circular include of script '%s'", ref->name);
			continue;
		}
		if (cs->depth + 1 > s->set->include_max_depth ||
		    cs->depth + 1 >= N_ELEMENTS(cs->stack)) {
			check_error(cs, s, ref, "cannot nest includes deeper than %u levels",
				    s->set->include_max_depth);
			continue;
		}
		if (++cs->total > s->set->include_max_includes) {
			check_error(
				cs, s, ref,
				"failed to include script '%s': no more than %u includes allowed",
				ref->name, s->set->include_max_includes);
			return;
		}
		buf_init(&data, s->set->max_script_size);
		if (cs->env != NULL && cs->env->script_load != NULL)
			ret = cs->env->script_load(cs->env_ctx, ref->location, ref->name, &data,
						   &error);
		if (ret < 0) {
			check_error(cs, s, ref, "failed to access included %s script '%s': %s",
				    where, ref->name, error != NULL ? error : "unknown error");
		} else if (ret == 0) {
			if (!ref->optional)
				check_error(cs, s, ref, "included %s script '%s' does not exist",
					    where, ref->name);
		} else {
			sieve_error_list_init(&sub);
			inc = sieve_compile(s->set, ref->name, buf_data(&data), buf_len(&data),
					    &sub);
			if (inc == NULL) {
				check_error(cs, s, ref, "failed to compile included %s script '%s'",
					    where, ref->name);
				(void)buf_append(&cs->errs->text, buf_data(&sub.text),
						 buf_len(&sub.text));
				cs->errs->errors += sub.errors;
			} else {
				cs->stack[cs->depth++] = ref->name;
				check_script(cs, inc);
				cs->depth--;
				sieve_script_free(&inc);
			}
			sieve_error_list_free(&sub);
		}
		buf_free(&data);
	}
}

bool sieve_check_includes(const struct sieve_script *script, const struct sieve_env_ops *env,
			  void *env_ctx, struct sieve_error_list *errs)
{
	struct check_state cs;

	memset(&cs, 0, sizeof(cs));
	cs.env = env;
	cs.env_ctx = env_ctx;
	cs.errs = errs;
	cs.ok = true;
	cs.stack[cs.depth++] = script->name;
	check_script(&cs, script);
	return cs.ok;
}
