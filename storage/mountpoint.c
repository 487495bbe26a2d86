/*
 * Mountpoint registry and mount checks (see mountpoint.h). Runs in roostadm
 * and the mail processes. /proc/self/mountinfo may be out of reach inside a
 * sandbox; the st_dev comparison then decides alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mountpoint.h"
#include "xalloc.h"

static bool path_ok(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/' || len > MOUNTPOINT_PATH_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '/' && i + 1 < len && p[i + 1] == '.' &&
		    (i + 2 == len || p[i + 2] == '/' ||
		     (p[i + 2] == '.' && (i + 3 == len || p[i + 3] == '/'))))
			return false;
	}
	return true;
}

/* Length without trailing slashes (but "/" stays "/"). */
static size_t trimmed_len(const char *p, size_t len)
{
	while (len > 1 && p[len - 1] == '/')
		len--;
	return len;
}

void mountpoint_list_free(struct mountpoint_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->paths[i]);
	free(list->paths);
	list->paths = NULL;
	list->count = 0;
}

bool mountpoint_list_parse(const char *data, size_t len, struct mountpoint_list *list,
			   struct mailbox_error *err)
{
	size_t pos = 0;
	unsigned int lineno = 0;

	list->paths = NULL;
	list->count = 0;
	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;

		pos += llen + 1;
		lineno++;
		if (llen == 0 || line[0] == '#')
			continue;
		llen = trimmed_len(line, llen);
		if (!path_ok(line, llen) || memchr(line, '\0', llen) != NULL) {
			mountpoint_list_free(list);
			return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
						 "mountpoints line %u: not an absolute clean path",
						 lineno);
		}
		if (list->count >= MOUNTPOINT_COUNT_MAX) {
			mountpoint_list_free(list);
			return mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
						 "more than %u mountpoints registered",
						 MOUNTPOINT_COUNT_MAX);
		}
		list->paths = i_realloc_array(list->paths, list->count + 1, sizeof(char *));
		list->paths[list->count++] = i_strndup(line, llen);
	}
	return true;
}

bool mountpoint_list_read(const char *state_file, struct mountpoint_list *list,
			  struct mailbox_error *err)
{
	char *data;
	struct stat st;
	ssize_t n;
	bool ok;
	int fd;

	list->paths = NULL;
	list->count = 0;
	fd = open(state_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return true;
		return mailbox_error_errno(err, errno, "open(%s) failed", state_file);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MOUNTPOINT_FILE_MAX) {
		close(fd);
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "%s: not a regular file or too large", state_file);
	}
	data = i_malloc(MOUNTPOINT_FILE_MAX + 1);
	n = pread(fd, data, MOUNTPOINT_FILE_MAX, 0);
	close(fd);
	if (n < 0) {
		free(data);
		return mailbox_error_errno(err, errno, "read(%s) failed", state_file);
	}
	ok = mountpoint_list_parse(data, (size_t)n, list, err);
	free(data);
	if (!ok) {
		char why[MAILBOX_ERROR_TEXT_MAX];

		str_copy(why, sizeof(why), err != NULL ? err->text : "");
		mailbox_error_set(err, err != NULL ? err->code : MAILBOX_ERROR_PARAMS, "%s: %s",
				  state_file, why);
	}
	return ok;
}

static bool list_write(const char *state_file, const struct mountpoint_list *list,
		       struct mailbox_error *err)
{
	struct buf out = BUF_INIT(MOUNTPOINT_FILE_MAX);
	struct buf tmp = BUF_INIT(MOUNTPOINT_PATH_MAX + 64);
	bool ok = false;
	int fd;

	for (size_t i = 0; i < list->count; i++) {
		if (!buf_printf(&out, "%s\n", list->paths[i])) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: too large", state_file);
			goto out;
		}
	}
	if (!buf_printf(&tmp, "%s.tmp", state_file)) {
		mailbox_error_set(err, MAILBOX_ERROR_PARAMS, "%s: path too long", state_file);
		goto out;
	}
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	if (write(fd, buf_data(&out), buf_len(&out)) != (ssize_t)buf_len(&out) || fsync(fd) < 0) {
		mailbox_error_errno(err, errno != 0 ? errno : ENOSPC, "write(%s) failed",
				    buf_cstr(&tmp));
		close(fd);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	close(fd);
	if (rename(buf_cstr(&tmp), state_file) < 0) {
		mailbox_error_errno(err, errno, "rename(%s) failed", state_file);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	ok = true;
out:
	buf_free(&out);
	buf_free(&tmp);
	return ok;
}

static ssize_t list_find(const struct mountpoint_list *list, const char *path, size_t len)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strlen(list->paths[i]) == len && memcmp(list->paths[i], path, len) == 0)
			return (ssize_t)i;
	}
	return -1;
}

bool mountpoint_add(const char *state_file, const char *path, struct mailbox_error *err)
{
	struct mountpoint_list list;
	size_t len = trimmed_len(path, strlen(path));
	bool ok;

	if (!path_ok(path, len))
		return mailbox_error_set(err, MAILBOX_ERROR_PARAMS,
					 "mountpoint must be an absolute path without . or .. "
					 "components: %s",
					 path);
	if (!mountpoint_list_read(state_file, &list, err))
		return false;
	if (list_find(&list, path, len) >= 0) {
		mountpoint_list_free(&list);
		return mailbox_error_set(err, MAILBOX_ERROR_EXISTS, "mountpoint already added: %s",
					 path);
	}
	list.paths = i_realloc_array(list.paths, list.count + 1, sizeof(char *));
	list.paths[list.count++] = i_strndup(path, len);
	ok = list_write(state_file, &list, err);
	mountpoint_list_free(&list);
	return ok;
}

bool mountpoint_remove(const char *state_file, const char *path, struct mailbox_error *err)
{
	struct mountpoint_list list;
	size_t len = trimmed_len(path, strlen(path));
	ssize_t idx;
	bool ok;

	if (!mountpoint_list_read(state_file, &list, err))
		return false;
	idx = list_find(&list, path, len);
	if (idx < 0) {
		mountpoint_list_free(&list);
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_FOUND, "mountpoint not found: %s",
					 path);
	}
	free(list.paths[idx]);
	memmove(&list.paths[idx], &list.paths[idx + 1],
		(list.count - (size_t)idx - 1) * sizeof(char *));
	list.count--;
	ok = list_write(state_file, &list, err);
	mountpoint_list_free(&list);
	return ok;
}

/* Decodes mountinfo's octal escapes (\040 for space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool in_mountinfo(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		/* id parent major:minor root MOUNTPOINT options ... */
		char *field = line;

		for (int i = 0; i < 4 && field != NULL; i++) {
			field = strchr(field, ' ');
			if (field != NULL)
				field++;
		}
		if (field == NULL)
			continue;
		char *end = strchr(field, ' ');

		if (end == NULL)
			continue;
		*end = '\0';
		unescape_octal(field);
		found = strcmp(field, path) == 0;
	}
	fclose(f);
	return found;
}

bool mountpoint_is_mounted(const char *path)
{
	struct stat st, pst;
	char parent[MOUNTPOINT_PATH_MAX + 1];
	char *slash;

	if (strcmp(path, "/") == 0)
		return true;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	if (!str_copy(parent, sizeof(parent), path))
		return false;
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (stat(parent, &pst) == 0 && pst.st_dev != st.st_dev)
		return true;
	return in_mountinfo(path);
}

enum mountpoint_state mountpoint_check(const struct mountpoint_list *list, const char *path,
				       const char **mount_r)
{
	const char *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < list->count; i++) {
		const char *m = list->paths[i];
		size_t mlen = strlen(m);

		if (strncmp(path, m, mlen) != 0)
			continue;
		if (path[mlen] != '\0' && path[mlen] != '/' && !(mlen == 1 && m[0] == '/'))
			continue;
		if (best == NULL || mlen > best_len) {
			best = m;
			best_len = mlen;
		}
	}
	if (mount_r != NULL)
		*mount_r = best;
	if (best == NULL)
		return MOUNTPOINT_STATE_UNREGISTERED;
	return mountpoint_is_mounted(best) ? MOUNTPOINT_STATE_MOUNTED
					   : MOUNTPOINT_STATE_NOT_MOUNTED;
}
