/*
 * dovecot-keywords reading and writing (see maildir-keywords.h). Runs in the
 * mail processes as the mail user; contents are untrusted and bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "maildir-keywords.h"
#include "xalloc.h"

void maildir_keywords_init(struct maildir_keywords *kw)
{
	memset(kw, 0, sizeof(*kw));
}

void maildir_keywords_deinit(struct maildir_keywords *kw)
{
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		free(kw->names[i]);
	memset(kw, 0, sizeof(*kw));
}

bool maildir_keyword_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAILDIR_KEYWORD_NAME_MAX || name[0] == '\\')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* atom-specials of RFC 3501 and RFC 9051, plus 8-bit bytes. */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

int maildir_keywords_lookup(const struct maildir_keywords *kw, const char *name)
{
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (kw->names[i] != NULL && strcasecmp(kw->names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

int maildir_keywords_add(struct maildir_keywords *kw, const char *name)
{
	int idx = maildir_keywords_lookup(kw, name);

	if (idx >= 0)
		return idx;
	if (!maildir_keyword_name_valid(name))
		return -1;
	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (kw->names[i] == NULL) {
			kw->names[i] = i_strdup(name);
			return (int)i;
		}
	}
	return -1;
}

const char *maildir_keywords_name(const struct maildir_keywords *kw, unsigned int idx)
{
	return idx < MAIL_KEYWORDS_MAX ? kw->names[idx] : NULL;
}

void maildir_keywords_parse(struct maildir_keywords *kw, const char *data, size_t len)
{
	size_t pos = 0;

	maildir_keywords_deinit(kw);
	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		char name[MAILDIR_KEYWORD_NAME_MAX + 1];
		unsigned int idx = 0;
		size_t i = 0;

		pos += llen + 1;
		if (llen == 0)
			continue;
		while (i < llen && i < 3 && line[i] >= '0' && line[i] <= '9')
			idx = idx * 10 + (unsigned int)(line[i++] - '0');
		if (i == 0 || i >= llen || line[i] != ' ' || idx >= MAIL_KEYWORDS_MAX ||
		    llen - i - 1 > MAILDIR_KEYWORD_NAME_MAX) {
			kw->bad_lines++;
			continue;
		}
		memcpy(name, line + i + 1, llen - i - 1);
		name[llen - i - 1] = '\0';
		if (strlen(name) != llen - i - 1 || !maildir_keyword_name_valid(name) ||
		    kw->names[idx] != NULL || maildir_keywords_lookup(kw, name) >= 0) {
			kw->bad_lines++;
			continue;
		}
		kw->names[idx] = i_strdup(name);
	}
}

int maildir_keywords_read(struct maildir_keywords *kw, const char *path, struct mailbox_error *err)
{
	char *data;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			maildir_keywords_deinit(kw);
			return 0;
		}
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAILDIR_KEYWORDS_FILE_MAX) {
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: not a regular file or too large",
				  path);
		return -1;
	}
	data = i_malloc(MAILDIR_KEYWORDS_FILE_MAX + 1);
	n = pread(fd, data, MAILDIR_KEYWORDS_FILE_MAX, 0);
	close(fd);
	if (n < 0) {
		mailbox_error_errno(err, errno, "read(%s) failed", path);
		free(data);
		return -1;
	}
	maildir_keywords_parse(kw, data, (size_t)n);
	free(data);
	if (kw->bad_lines > 0)
		log_warning("%s: skipped %u broken lines", path, kw->bad_lines);
	return 1;
}

bool maildir_keywords_write(const struct maildir_keywords *kw, const char *path, bool do_fsync,
			    struct mailbox_error *err)
{
	struct buf out = BUF_INIT(MAILDIR_KEYWORDS_FILE_MAX);
	struct buf tmp = BUF_INIT(4096);
	bool ok = false;
	int fd;

	for (unsigned int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (kw->names[i] != NULL && !buf_printf(&out, "%u %s\n", i, kw->names[i]))
			goto out;
	}
	if (!buf_printf(&tmp, "%s.roost-tmp", path)) {
		mailbox_error_set(err, MAILBOX_ERROR_LIMIT, "%s: path too long", path);
		goto out;
	}
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", buf_cstr(&tmp));
		goto out;
	}
	if (write(fd, buf_data(&out), buf_len(&out)) != (ssize_t)buf_len(&out) ||
	    (do_fsync && fdatasync(fd) < 0)) {
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
	buf_free(&out);
	buf_free(&tmp);
	return ok;
}
