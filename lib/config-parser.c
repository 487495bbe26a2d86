/*
 * roost.conf parser (see config-parser.h). The files are written by the
 * administrator, but the parser is still strict about sizes and nesting and
 * is fuzzed: a typo must give "FILE:LINE: problem", never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-parser.h"
#include "pool.h"
#include "xalloc.h"

struct parser {
	struct pool *pool;
	const char *error;
	unsigned int nodes;
	unsigned int include_depth;
	bool allow_include;
};

struct file_ctx {
	const char *path; /* as shown in errors */
	const char *dir;  /* for relative includes */
	const char *text;
	size_t len;
	size_t pos;
	unsigned int line;
};

static bool parse_error(struct parser *p, const struct file_ctx *f, unsigned int line,
			const char *msg)
{
	if (p->error == NULL) {
		p->error = p_strdup_printf(p->pool, "%s:%u: %s", f->path, line, msg);
		if (p->error == NULL)
			p->error = "configuration too large";
	}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Reads one logical line (joining "\" continuations) into line_r. */
static bool next_line(struct parser *p, struct file_ctx *f, struct buf *line_r,
		      unsigned int *lineno_r)
{
	buf_reset(line_r);
	if (f->pos >= f->len)
		return false;
	*lineno_r = f->line + 1;
	while (f->pos < f->len) {
		const char *start = f->text + f->pos;
		const char *nl = memchr(start, '\n', f->len - f->pos);
		size_t n = nl == NULL ? f->len - f->pos : (size_t)(nl - start);

		f->pos += n + (nl != NULL ? 1 : 0);
		f->line++;
		while (n > 0 && start[n - 1] == '\r')
			n--;
		if (!buf_append(line_r, start, n)) {
			parse_error(p, f, f->line, "Line too long");
			return false;
		}
		/* A trailing backslash joins the next line. */
		if (buf_len(line_r) > 0 && buf_data(line_r)[buf_len(line_r) - 1] == '\\') {
			buf_truncate(line_r, buf_len(line_r) - 1);
			continue;
		}
		break;
	}
	return true;
}

static struct config_node *node_new(struct parser *p, const struct file_ctx *f, unsigned int line,
				    struct config_node *parent)
{
	struct config_node *node;

	if (++p->nodes > CONFIG_MAX_NODES) {
		parse_error(p, f, line, "Too many settings");
		return NULL;
	}
	node = p_malloc(p->pool, sizeof(*node));
	if (node == NULL) {
		parse_error(p, f, line, "Configuration too large");
		return NULL;
	}
	node->file = f->path;
	node->line = line;
	node->parent = parent;
	node->name = "";
	node->value = "";
	return node;
}

static void node_append(struct config_node *parent, struct config_node *node)
{
	struct config_node **tail = &parent->children;

	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = node;
}

/*
 * Reads a possibly quoted word starting at *pos. A bare word ends at
 * whitespace or at any character in stops. Returns NULL on an unterminated
 * quote.
 */
static char *read_word(struct parser *p, const char *s, size_t *pos, const char *stops,
		       bool *quoted_r)
{
	struct buf word = BUF_INIT(CONFIG_MAX_LINE_LENGTH);
	size_t i = *pos;
	char *ret;

	*quoted_r = false;
	if (s[i] == '"' || s[i] == '\'') {
		char q = s[i++];

		*quoted_r = true;
		while (s[i] != '\0' && s[i] != q) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			(void)buf_append_c(&word, (uint8_t)s[i++]);
		}
		if (s[i] != q) {
			buf_free(&word);
			return NULL;
		}
		i++;
	} else {
		while (s[i] != '\0' && !is_space(s[i]) && strchr(stops, s[i]) == NULL)
			(void)buf_append_c(&word, (uint8_t)s[i++]);
	}
	*pos = i;
	ret = p_strndup(p->pool, buf_data(&word), buf_len(&word));
	buf_free(&word);
	return ret;
}

static size_t skip_space(const char *s, size_t i)
{
	while (is_space(s[i]))
		i++;
	return i;
}

/* True when only whitespace or a comment is left on the line. */
static bool rest_is_empty(const char *s, size_t i)
{
	i = skip_space(s, i);
	return s[i] == '\0' || s[i] == '#';
}

static bool parse_lines(struct parser *p, struct file_ctx *f, struct config_node **section,
			unsigned int *depth);

static bool read_whole_file(struct parser *p, const char *path, const char **text_r, size_t *len_r,
			    const char **error_r)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *text;
	size_t done = 0;

	if (fd < 0) {
		*error_r = p_strdup_printf(p->pool, "open(%s) failed: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error_r = p_strdup_printf(p->pool, "%s: not a regular file", path);
		close(fd);
		return false;
	}
	if (st.st_size > CONFIG_MAX_FILE_SIZE) {
		*error_r = p_strdup_printf(p->pool, "%s: file too large", path);
		close(fd);
		return false;
	}
	text = p_malloc(p->pool, (size_t)st.st_size + 1);
	if (text == NULL) {
		*error_r = "configuration too large";
		close(fd);
		return false;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, text + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	text[done] = '\0';
	*text_r = text;
	*len_r = done;
	return true;
}

static bool parse_file_into(struct parser *p, const char *path, struct config_node **section,
			    unsigned int *depth, const char **error_r)
{
	struct file_ctx f = {.path = path};
	char *dir = p_strdup(p->pool, path);
	char *slash;
	unsigned int start_depth = *depth;

	if (dir == NULL) {
		*error_r = "configuration too large";
		return false;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		f.dir = ".";
	else {
		*slash = '\0';
		f.dir = slash == dir ? "/" : dir;
	}
	if (!read_whole_file(p, path, &f.text, &f.len, error_r))
		return false;
	if (!parse_lines(p, &f, section, depth))
		return false;
	if (*depth != start_depth) {
		/* An included file must close every section it opened. */
		return parse_error(p, &f, f.line, "Missing '}'");
	}
	return true;
}

static bool handle_include(struct parser *p, struct file_ctx *f, unsigned int lineno,
			   const char *line, struct config_node **section, unsigned int *depth)
{
	bool try = strncmp(line, "!include_try", 12) == 0;
	size_t pos = skip_space(line, try ? 12 : 8);
	bool quoted;
	char *pattern = read_word(p, line, &pos, "#", &quoted);
	const char *full;
	glob_t gl;
	int ret;

	if (!p->allow_include)
		return parse_error(p, f, lineno, "!include is not allowed here");
	if (pattern == NULL || pattern[0] == '\0' || !rest_is_empty(line, pos))
		return parse_error(p, f, lineno, "Invalid !include line");
	if (p->include_depth >= CONFIG_MAX_INCLUDE_DEPTH)
		return parse_error(p, f, lineno, "!include nested too deeply");
	full = pattern[0] == '/' ? pattern : p_strdup_printf(p->pool, "%s/%s", f->dir, pattern);
	if (full == NULL)
		return parse_error(p, f, lineno, "Configuration too large");

	ret = glob(full, GLOB_ERR | GLOB_BRACE, NULL, &gl);
	if (ret == GLOB_NOMATCH) {
		bool has_glob = strpbrk(pattern, "*?[{") != NULL;

		if (try || has_glob)
			return true;
		return parse_error(p, f, lineno,
				   p_strdup_printf(p->pool, "!include %s: No such file", full));
	}
	if (ret != 0)
		return parse_error(p, f, lineno,
				   p_strdup_printf(p->pool, "!include %s: glob failed", full));
	p->include_depth++;
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		const char *error = "Configuration too large";
		const char *path = p_strdup(p->pool, gl.gl_pathv[i]);

		if (path != NULL && parse_file_into(p, path, section, depth, &error))
			continue;
		/* A syntax error inside the file, or an unreadable file. */
		if (p->error == NULL && try)
			continue;
		globfree(&gl);
		return p->error != NULL ? false : parse_error(p, f, lineno, error);
	}
	p->include_depth--;
	globfree(&gl);
	return true;
}

static bool parse_line(struct parser *p, struct file_ctx *f, unsigned int lineno, const char *line,
		       struct config_node **section, unsigned int *depth)
{
	size_t pos = skip_space(line, 0);
	struct config_node *node;
	bool quoted;
	char *key;

	if (line[pos] == '\0' || line[pos] == '#')
		return true;
	if (line[pos] == '}') {
		if (!rest_is_empty(line, pos + 1))
			return parse_error(p, f, lineno, "Garbage after '}'");
		if (*depth == 0 || (*section)->parent == NULL)
			return parse_error(p, f, lineno, "Unexpected '}'");
		*section = (*section)->parent;
		(*depth)--;
		return true;
	}
	if (line[pos] == '!') {
		const char *cmd = line + pos;

		if (strncmp(cmd, "!include_try", 12) == 0 && (is_space(cmd[12]) || cmd[12] == '\0'))
			return handle_include(p, f, lineno, cmd, section, depth);
		if (strncmp(cmd, "!include", 8) == 0 && (is_space(cmd[8]) || cmd[8] == '\0'))
			return handle_include(p, f, lineno, cmd, section, depth);
		return parse_error(p, f, lineno, "Unknown directive");
	}

	key = read_word(p, line, &pos, "={#", &quoted);
	if (key == NULL || key[0] == '\0' || quoted)
		return parse_error(p, f, lineno, "Expecting a setting name");
	pos = skip_space(line, pos);
	node = node_new(p, f, lineno, *section);
	if (node == NULL)
		return false;
	node->key = key;

	if (line[pos] == '=') {
		size_t end;
		char *value;

		pos = skip_space(line, pos + 1);
		node->type = CONFIG_NODE_SETTING;
		if (line[pos] == '"' || line[pos] == '\'') {
			value = read_word(p, line, &pos, "", &node->value_quoted);
			if (value == NULL)
				return parse_error(p, f, lineno, "Missing closing quote");
			if (!rest_is_empty(line, pos))
				return parse_error(p, f, lineno, "Garbage after quoted value");
		} else {
			/* A bare value runs to the end or to a " #" comment. */
			end = pos;
			while (line[end] != '\0' &&
			       !(line[end] == '#' && end > pos && is_space(line[end - 1])))
				end++;
			while (end > pos && is_space(line[end - 1]))
				end--;
			value = p_strndup(p->pool, line + pos, end - pos);
			if (value == NULL)
				return parse_error(p, f, lineno, "Configuration too large");
		}
		node->value = value;
		node_append(*section, node);
		return true;
	}

	/* A section: "type {" or "type name {". */
	node->type = CONFIG_NODE_SECTION;
	if (line[pos] != '{') {
		char *name = read_word(p, line, &pos, "{#", &quoted);

		if (name == NULL)
			return parse_error(p, f, lineno, "Missing closing quote");
		if (name[0] == '\0')
			return parse_error(
				p, f, lineno,
				p_strdup_printf(p->pool, "Expecting '=' or '{' after %s", key));
		node->name = name;
		pos = skip_space(line, pos);
	}
	if (line[pos] != '{')
		return parse_error(p, f, lineno,
				   p_strdup_printf(p->pool, "Expecting '=' or '{' after %s", key));
	if (!rest_is_empty(line, pos + 1))
		return parse_error(p, f, lineno, "Garbage after '{'");
	if (*depth >= CONFIG_MAX_DEPTH)
		return parse_error(p, f, lineno, "Sections nested too deeply");
	node_append(*section, node);
	*section = node;
	(*depth)++;
	return true;
}

static bool parse_lines(struct parser *p, struct file_ctx *f, struct config_node **section,
			unsigned int *depth)
{
	struct buf line = BUF_INIT(CONFIG_MAX_LINE_LENGTH);
	unsigned int lineno = 0;
	bool ok = true;

	while (ok && next_line(p, f, &line, &lineno)) {
		if (memchr(buf_data(&line), '\0', buf_len(&line)) != NULL)
			ok = parse_error(p, f, lineno, "NUL byte in configuration");
		else
			ok = parse_line(p, f, lineno, buf_cstr(&line), section, depth);
	}
	buf_free(&line);
	return ok && p->error == NULL;
}

static struct config_node *root_new(struct parser *p)
{
	struct config_node *root = p_malloc(p->pool, sizeof(*root));

	if (root == NULL)
		return NULL;
	root->type = CONFIG_NODE_SECTION;
	root->key = "";
	root->name = "";
	root->value = "";
	root->file = "";
	return root;
}

struct config_node *config_parse_file(struct pool *pool, const char *path, const char **error_r)
{
	struct parser p = {.pool = pool, .allow_include = true};
	struct config_node *root = root_new(&p), *section = root;
	unsigned int depth = 0;
	const char *error = NULL;

	if (root == NULL) {
		*error_r = "configuration too large";
		return NULL;
	}
	if (!parse_file_into(&p, path, &section, &depth, &error)) {
		*error_r = p.error != NULL ? p.error : error;
		return NULL;
	}
	return root;
}

struct config_node *config_parse_text(struct pool *pool, const char *name, const char *text,
				      size_t len, const char **error_r)
{
	struct parser p = {.pool = pool};
	struct file_ctx f = {.path = name, .dir = ".", .text = text, .len = len};
	struct config_node *root = root_new(&p), *section = root;
	unsigned int depth = 0;

	if (root == NULL) {
		*error_r = "configuration too large";
		return NULL;
	}
	if (len > CONFIG_MAX_FILE_SIZE) {
		*error_r = "configuration too large";
		return NULL;
	}
	if (!parse_lines(&p, &f, &section, &depth)) {
		*error_r = p.error;
		return NULL;
	}
	if (depth != 0) {
		parse_error(&p, &f, f.line, "Missing '}'");
		*error_r = p.error;
		return NULL;
	}
	return root;
}

static bool value_needs_quotes(const char *value)
{
	size_t len = strlen(value);

	if (len == 0)
		return false;
	if (is_space(value[0]) || is_space(value[len - 1]))
		return true;
	return strpbrk(value, "\"'\\#{}\n") != NULL;
}

static void write_quoted(struct buf *out, const char *value)
{
	(void)buf_append_c(out, '"');
	for (const char *s = value; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)buf_append_c(out, '\\');
		(void)buf_append_c(out, *s == '\n' ? ' ' : (uint8_t)*s);
	}
	(void)buf_append_c(out, '"');
}

void config_write_value(struct buf *out, const char *value)
{
	if (value_needs_quotes(value))
		write_quoted(out, value);
	else
		(void)buf_append_str(out, value);
}

static void write_indent(struct buf *out, unsigned int depth)
{
	for (unsigned int i = 0; i < depth; i++)
		(void)buf_append_str(out, "  ");
}

static void write_nodes(struct buf *out, const struct config_node *node, unsigned int depth)
{
	for (; node != NULL; node = node->next) {
		write_indent(out, depth);
		if (node->type == CONFIG_NODE_SETTING) {
			(void)buf_printf(out, "%s = ", node->key);
			config_write_value(out, node->value);
			(void)buf_append_c(out, '\n');
			continue;
		}
		(void)buf_append_str(out, node->key);
		if (node->name[0] != '\0') {
			(void)buf_append_c(out, ' ');
			if (strpbrk(node->name, " \t\"'#{}\\") != NULL)
				write_quoted(out, node->name);
			else
				(void)buf_append_str(out, node->name);
		}
		(void)buf_append_str(out, " {\n");
		write_nodes(out, node->children, depth + 1);
		write_indent(out, depth);
		(void)buf_append_str(out, "}\n");
	}
}

void config_write(struct buf *out, const struct config_node *root)
{
	write_nodes(out, root->children, 0);
}
