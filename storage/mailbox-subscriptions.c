/*
 * The subscriptions file (see mailbox-subscriptions.h and mailbox.h). Runs
 * in roost-imap as the mail user. Updates take a flock on a lock file next
 * to it and replace the file with rename(), so readers never see half a
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox-name.h"
#include "mailbox-private.h"
#include "mailbox-subscriptions.h"
#include "xalloc.h"

#define SUBSCRIPTIONS_LOCK_FILE "roost-subscriptions.lock"

static bool list_has(char **names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return true;
	}
	return false;
}

char **mailbox_subscriptions_parse(const char *data, size_t len, enum mail_layout layout)
{
	struct buf name = BUF_INIT(MAILBOX_NAME_MAX + 1);
	char **names = i_calloc(1, sizeof(char *));
	size_t count = 0, pos = 0;
	bool v2 = false;

	if (len >= 4 && memcmp(data, "V\t2\n", 4) == 0) {
		v2 = true;
		pos = 4;
	}
	while (pos < len && count < SUBSCRIPTIONS_MAX) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		char sep = v2 ? '\t' : '/';
		size_t start = 0;
		bool ok = true;
		struct mailbox_error err;

		pos += llen + 1;
		if (llen == 0)
			continue;
		buf_reset(&name);
		for (size_t i = 0; i <= llen && ok; i++) {
			if (i < llen && line[i] != sep)
				continue;
			if (start > 0 && !buf_append_c(&name, '/'))
				ok = false;
			else if (!mailbox_name_decode_component(line + start, i - start, &name))
				ok = false;
			start = i + 1;
		}
		if (!ok || strlen(buf_cstr(&name)) != buf_len(&name))
			continue;
		if (mailbox_name_is_inbox(buf_cstr(&name))) {
			buf_reset(&name);
			(void)buf_append_str(&name, "INBOX");
		} else if (!mailbox_name_validate(buf_cstr(&name), layout, &err)) {
			continue;
		}
		if (list_has(names, count, buf_cstr(&name)))
			continue;
		names = i_realloc_array(names, count + 2, sizeof(char *));
		names[count++] = i_strdup(buf_cstr(&name));
		names[count] = NULL;
	}
	buf_free(&name);
	return names;
}

bool mailbox_subscriptions_format(char *const *names, struct buf *out)
{
	if (!buf_append_str(out, "V\t2\n\n"))
		return false;
	for (size_t i = 0; names[i] != NULL; i++) {
		const char *p = names[i];

		for (;;) {
			const char *slash = strchr(p, '/');
			size_t clen = slash != NULL ? (size_t)(slash - p) : strlen(p);

			if (!mailbox_name_encode_component(p, clen, out, NULL))
				return false;
			if (slash == NULL)
				break;
			if (!buf_append_c(out, '\t'))
				return false;
			p = slash + 1;
		}
		if (!buf_append_c(out, '\n'))
			return false;
	}
	return true;
}

void mailbox_subscriptions_free(char ***names)
{
	if (*names == NULL)
		return;
	for (size_t i = 0; (*names)[i] != NULL; i++)
		free((*names)[i]);
	I_FREE(*names);
}

static char *subscriptions_path(struct mail_storage *storage, const char *file)
{
	const struct mail_location *loc = storage->loc;

	return mailbox_path_join(loc->control_dir != NULL ? loc->control_dir : loc->root, file);
}

bool mailbox_subscriptions_get(struct mail_storage *storage, char ***names_r,
			       struct mailbox_error *err)
{
	char *path = subscriptions_path(storage, MAILBOX_SUBSCRIPTIONS_FILE);
	struct stat st;
	char *data;
	ssize_t n;
	int fd;

	*names_r = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			free(path);
			*names_r = i_calloc(1, sizeof(char *));
			return true;
		}
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		free(path);
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SUBSCRIPTIONS_FILE_MAX) {
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: not a regular file or too large",
				  path);
		free(path);
		return false;
	}
	data = i_malloc((size_t)st.st_size + 1);
	n = pread(fd, data, (size_t)st.st_size, 0);
	close(fd);
	if (n < 0) {
		mailbox_error_errno(err, errno, "read(%s) failed", path);
		free(data);
		free(path);
		return false;
	}
	*names_r = mailbox_subscriptions_parse(data, (size_t)n, storage->loc->layout);
	free(data);
	free(path);
	return true;
}

bool mailbox_subscribe(struct mail_storage *storage, const char *name, bool subscribe,
		       struct mailbox_error *err)
{
	char *path = subscriptions_path(storage, MAILBOX_SUBSCRIPTIONS_FILE);
	char *lock_path = subscriptions_path(storage, SUBSCRIPTIONS_LOCK_FILE);
	struct buf out = BUF_INIT(SUBSCRIPTIONS_FILE_MAX);
	struct buf tmp = BUF_INIT(MAIL_LOCATION_PATH_MAX + 64);
	struct lock_file *lock = NULL;
	const char *canon = mailbox_name_is_inbox(name) ? "INBOX" : name;
	char **names = NULL;
	size_t count;
	bool ok = false, present;
	int fd;

	if (!mailbox_name_is_inbox(name) && !mailbox_name_validate(name, storage->loc->layout, err))
		goto out;
	if (lock_file_acquire(lock_path, LOCK_MODE_EXCLUSIVE, mailbox_lock_timeout_ms(storage),
			      &lock, err) <= 0)
		goto out;
	if (!mailbox_subscriptions_get(storage, &names, err))
		goto out;
	for (count = 0; names[count] != NULL; count++)
		;
	present = list_has(names, count, canon);
	if (present == subscribe) {
		ok = true;
		goto out;
	}
	if (subscribe) {
		if (count >= SUBSCRIPTIONS_MAX) {
			mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "Too many subscriptions");
			goto out;
		}
		names = i_realloc_array(names, count + 2, sizeof(char *));
		names[count++] = i_strdup(canon);
		names[count] = NULL;
	} else {
		size_t w = 0;

		for (size_t i = 0; i < count; i++) {
			if (strcmp(names[i], canon) == 0)
				free(names[i]);
			else
				names[w++] = names[i];
		}
		names[w] = NULL;
	}
	if (!mailbox_subscriptions_format(names, &out)) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT,
				  "Subscriptions file too large or a name cannot be stored");
		goto out;
	}
	if (!buf_printf(&tmp, "%s.roost-tmp", path)) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "path too long");
		goto out;
	}
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  storage->file_mode);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	if (write(fd, buf_data(&out), buf_len(&out)) != (ssize_t)buf_len(&out) ||
	    (storage->fsync != MAIL_FSYNC_NEVER && fdatasync(fd) < 0)) {
		mailbox_error_errno(err, errno != 0 ? errno : ENOSPC, "write(%s) failed",
				    buf_cstr(&tmp));
		close(fd);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	close(fd);
	if (rename(buf_cstr(&tmp), path) < 0) {
		mailbox_error_errno(err, errno, "rename(%s) failed", path);
		(void)unlink(buf_cstr(&tmp));
		goto out;
	}
	ok = true;
out:
	lock_file_release(&lock);
	mailbox_subscriptions_free(&names);
	buf_free(&out);
	buf_free(&tmp);
	free(path);
	free(lock_path);
	return ok;
}
