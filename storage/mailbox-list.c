/*
 * The mailbox list: listing Maildir++ (".Lists.roost") or LAYOUT=fs folders,
 * creating, deleting and renaming them, and the quota usage summed over
 * them. Runs in roost-imap, roost-pop3 and roost-lda as the mail user.
 * Directory names read from disk are untrusted and become API names only
 * if they decode and validate; API names become paths only through
 * mailbox_name_to_dir(), so nothing here reaches outside the mail root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox-name.h"
#include "mailbox-private.h"
#include "maildir-filename.h"
#include "xalloc.h"

/* Prefix of a directory being deleted: never a valid Maildir++ name. */
#define TRASH_PREFIX "..roost-trash."
#define LIST_MAX     100000

struct name_list {
	char **names;
	size_t count;
	size_t alloc;
};

static void names_add(struct name_list *l, const char *name)
{
	if (l->count == l->alloc) {
		l->alloc = l->alloc == 0 ? 32 : l->alloc * 2;
		l->names = i_realloc_array(l->names, l->alloc, sizeof(char *));
	}
	l->names[l->count++] = i_strdup(name);
}

static void names_free(struct name_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

static bool remove_tree(int parent_fd, const char *name, unsigned int depth);

static bool is_dir_at(int dirfd, const struct dirent *d)
{
	struct stat st;

	if (d->d_type == DT_DIR)
		return true;
	if (d->d_type != DT_UNKNOWN && d->d_type != DT_LNK)
		return false;
	return fstatat(dirfd, d->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Maildir++: every ".name" directory of the root. */
static bool list_maildirpp(struct mail_storage *storage, struct name_list *out,
			   struct mailbox_error *err)
{
	struct buf name = BUF_INIT(MAILBOX_NAME_MAX * 2);
	struct dirent *d;
	DIR *dir = opendir(storage->loc->root);

	if (dir == NULL) {
		buf_free(&name);
		if (errno == ENOENT)
			return true;
		return mailbox_error_errno(err, errno, "opendir(%s) failed", storage->loc->root);
	}
	while ((d = readdir(dir)) != NULL && out->count < LIST_MAX) {
		if (strncmp(d->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) == 0) {
			struct stat st;

			/* Left by a delete that crashed half way. */
			if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode) && st.st_mtime < time(NULL) - 3600)
				(void)remove_tree(dirfd(dir), d->d_name, 0);
			continue;
		}
		if (d->d_name[0] != '.' || d->d_name[1] == '.' || d->d_name[1] == '\0')
			continue;
		buf_reset(&name);
		if (!mailbox_name_from_maildirpp(d->d_name, &name) ||
		    mailbox_name_is_inbox(buf_cstr(&name)) || !is_dir_at(dirfd(dir), d))
			continue;
		names_add(out, buf_cstr(&name));
	}
	closedir(dir);
	buf_free(&name);
	return true;
}

/* LAYOUT=fs: nested directories, skipping the Maildir's own subdirs. */
static void list_fs(int parent_fd, const char *prefix, unsigned int depth, struct name_list *out,
		    struct name_list *noselect)
{
	struct buf name = BUF_INIT(MAILBOX_NAME_MAX * 2);
	struct dirent *d;
	DIR *dir;
	int fd;

	if (depth > MAILBOX_NAME_DEPTH_MAX)
		return;
	fd = openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL && out->count < LIST_MAX) {
		struct mailbox_error err;
		struct stat st;
		int sub;

		if (d->d_name[0] == '.' || strcmp(d->d_name, "cur") == 0 ||
		    strcmp(d->d_name, "new") == 0 || strcmp(d->d_name, "tmp") == 0 ||
		    !is_dir_at(dirfd(dir), d))
			continue;
		buf_reset(&name);
		if (prefix[0] != '\0' &&
		    (!buf_append_str(&name, prefix) || !buf_append_c(&name, '/')))
			continue;
		if (!mailbox_name_decode_component(d->d_name, strlen(d->d_name), &name) ||
		    !mailbox_name_validate(buf_cstr(&name), MAIL_LAYOUT_FS, &err) ||
		    (depth == 0 && mailbox_name_is_inbox(buf_cstr(&name))))
			continue;
		sub = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (fstatat(sub, "cur", &st, 0) == 0 && S_ISDIR(st.st_mode))
			names_add(out, buf_cstr(&name));
		else
			names_add(noselect, buf_cstr(&name));
		list_fs(sub, buf_cstr(&name), depth + 1, out, noselect);
		close(sub);
	}
	closedir(dir);
	buf_free(&name);
}

static int cmp_info(const void *a, const void *b)
{
	const struct mailbox_info *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

static ssize_t info_find(const struct mailbox_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->infos[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static void info_add(struct mailbox_list *list, size_t *alloc, const char *name, unsigned int flags)
{
	if (list->count == *alloc) {
		*alloc = *alloc == 0 ? 32 : *alloc * 2;
		list->infos = i_realloc_array(list->infos, *alloc, sizeof(*list->infos));
	}
	list->infos[list->count].name = i_strdup(name);
	list->infos[list->count].flags = flags;
	list->count++;
}

bool mailbox_list_get(struct mail_storage *storage, struct mailbox_list *list_r,
		      struct mailbox_error *err)
{
	struct name_list names = {0}, noselect = {0};
	char **subs = NULL;
	size_t alloc = 0;

	memset(list_r, 0, sizeof(*list_r));
	if (storage->loc->layout == MAIL_LAYOUT_MAILDIRPP) {
		if (!list_maildirpp(storage, &names, err))
			return false;
	} else {
		int fd = open(storage->loc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			list_fs(fd, "", 0, &names, &noselect);
			close(fd);
		}
	}
	info_add(list_r, &alloc, "INBOX", 0);
	for (size_t i = 0; i < names.count; i++)
		info_add(list_r, &alloc, names.names[i], 0);
	for (size_t i = 0; i < noselect.count; i++)
		info_add(list_r, &alloc, noselect.names[i], MAILBOX_INFO_NOSELECT);
	names_free(&names);
	names_free(&noselect);
	/* Parents that exist only through their children. */
	for (size_t i = 0; i < list_r->count; i++) {
		char parent[MAILBOX_NAME_MAX + 1];
		char *slash;

		str_copy(parent, sizeof(parent), list_r->infos[i].name);
		while ((slash = strrchr(parent, '/')) != NULL) {
			*slash = '\0';
			if (info_find(list_r, parent) < 0)
				info_add(list_r, &alloc, parent, MAILBOX_INFO_NOSELECT);
		}
	}
	qsort(list_r->infos, list_r->count, sizeof(*list_r->infos), cmp_info);
	for (size_t i = 0; i < list_r->count; i++) {
		struct mailbox_info *info = &list_r->infos[i];
		size_t len = strlen(info->name);
		bool children = false;

		/* Sorted by name: children follow their parent directly
		   (only '/' sorts before letters among the bytes that can
		   follow the parent's name, and '/'-prefixed names start
		   right after it). */
		for (size_t j = 0; j < list_r->count && !children; j++)
			children = strncmp(list_r->infos[j].name, info->name, len) == 0 &&
				   list_r->infos[j].name[len] == '/';
		info->flags |= children ? MAILBOX_INFO_HAS_CHILDREN : MAILBOX_INFO_HAS_NO_CHILDREN;
	}
	if (mailbox_subscriptions_get(storage, &subs, NULL)) {
		for (size_t i = 0; subs[i] != NULL; i++) {
			ssize_t j = info_find(list_r,
					      mailbox_name_is_inbox(subs[i]) ? "INBOX" : subs[i]);

			if (j >= 0)
				list_r->infos[j].flags |= MAILBOX_INFO_SUBSCRIBED;
			else
				info_add(list_r, &alloc, subs[i],
					 MAILBOX_INFO_SUBSCRIBED | MAILBOX_INFO_NONEXISTENT);
		}
		mailbox_subscriptions_free(&subs);
	}
	return true;
}

void mailbox_list_free(struct mailbox_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->infos[i].name);
	free(list->infos);
	memset(list, 0, sizeof(*list));
}

bool mailbox_exists(struct mail_storage *storage, const char *name, bool *exists_r,
		    struct mailbox_error *err)
{
	char *dir, *control, *index, *cur;
	struct stat st;

	*exists_r = false;
	if (!mailbox_get_dirs(storage, name, &dir, &control, &index, err))
		return false;
	cur = mailbox_path_join(dir, "cur");
	*exists_r = mailbox_name_is_inbox(name) ||
		    (storage->loc->layout == MAIL_LAYOUT_FS
			     ? stat(cur, &st) == 0
			     : stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	free(cur);
	free(dir);
	free(control);
	free(index);
	return true;
}

bool mailbox_create(struct mail_storage *storage, const char *name, struct mailbox_error *err)
{
	char *dir, *control, *index, *cur;
	struct stat st;
	bool ok = false;

	if (mailbox_name_is_inbox(name))
		return mailbox_error_set(err, MAILBOX_ERROR_EXISTS, "Mailbox already exists");
	if (!mailbox_get_dirs(storage, name, &dir, &control, &index, err))
		return false;
	if (!mail_storage_check_mounted(storage, err))
		goto out;
	cur = mailbox_path_join(dir, "cur");
	if (stat(cur, &st) == 0 ||
	    (storage->loc->layout == MAIL_LAYOUT_MAILDIRPP && stat(dir, &st) == 0)) {
		free(cur);
		mailbox_error_set(err, MAILBOX_ERROR_EXISTS, "Mailbox already exists");
		goto out;
	}
	free(cur);
	if (storage->loc->layout == MAIL_LAYOUT_MAILDIRPP && mkdir(dir, storage->dir_mode) < 0) {
		if (errno == EEXIST)
			mailbox_error_set(err, MAILBOX_ERROR_EXISTS, "Mailbox already exists");
		else
			mailbox_error_errno(err, errno, "mkdir(%s) failed", dir);
		goto out;
	}
	if (!mailbox_create_maildir(storage, dir, true, err))
		goto out;
	if (strcmp(control, dir) != 0 && !mailbox_mkdir_parents(control, storage->dir_mode, err))
		goto out;
	if (index != NULL && strcmp(index, dir) != 0 &&
	    !mailbox_mkdir_parents(index, storage->dir_mode, err))
		goto out;
	ok = true;
out:
	free(dir);
	free(control);
	free(index);
	return ok;
}

/* Removes everything under dirfd/name without following symlinks. */
static bool remove_tree(int parent_fd, const char *name, unsigned int depth)
{
	struct dirent *d;
	DIR *dir;
	int fd;
	bool ok = true;

	if (depth > MAILBOX_NAME_DEPTH_MAX + 4)
		return false;
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || (errno == ENOTDIR && unlinkat(parent_fd, name, 0) == 0);
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return false;
	}
	while ((d = readdir(dir)) != NULL) {
		struct stat st;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			ok = remove_tree(dirfd(dir), d->d_name, depth + 1) && ok;
		else if (unlinkat(dirfd(dir), d->d_name, 0) < 0 && errno != ENOENT)
			ok = false;
	}
	closedir(dir);
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ok = false;
	return ok;
}

/* Moves path aside under a name no listing shows, then removes it. */
static bool delete_dir(const char *path, struct mailbox_error *err)
{
	static unsigned int counter;
	char *parent = i_strdup(path), *slash = strrchr(parent, '/');
	char trash[128];
	int pfd;
	bool ok;

	if (slash == NULL || slash == parent) {
		free(parent);
		return mailbox_error_set(err, MAILBOX_ERROR_TEMP, "cannot delete %s", path);
	}
	*slash = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		ok = errno == ENOENT || mailbox_error_errno(err, errno, "open(%s) failed", parent);
		free(parent);
		return ok;
	}
	str_format(trash, sizeof(trash), TRASH_PREFIX "%d.%u.%lld", (int)getpid(), ++counter,
		   (long long)time(NULL));
	if (renameat(pfd, slash + 1, pfd, trash) < 0) {
		ok = errno == ENOENT || mailbox_error_errno(err, errno, "rename(%s) failed", path);
		close(pfd);
		free(parent);
		return ok;
	}
	if (!remove_tree(pfd, trash, 0))
		log_warning("%s/%s: could not remove everything", parent, trash);
	close(pfd);
	free(parent);
	return true;
}

static bool has_children(struct mail_storage *storage, const char *name, bool *children_r,
			 struct mailbox_error *err)
{
	struct mailbox_list list;
	size_t len = strlen(name);

	*children_r = false;
	if (!mailbox_list_get(storage, &list, err))
		return false;
	for (size_t i = 0; i < list.count; i++) {
		if ((list.infos[i].flags & MAILBOX_INFO_NONEXISTENT) == 0 &&
		    strncmp(list.infos[i].name, name, len) == 0 && list.infos[i].name[len] == '/')
			*children_r = true;
	}
	mailbox_list_free(&list);
	return true;
}

bool mailbox_delete(struct mail_storage *storage, const char *name, struct mailbox_error *err)
{
	char *dir, *control, *index;
	bool exists, ok = false, children = false;

	if (mailbox_name_is_inbox(name))
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED, "INBOX can't be deleted.");
	if (!mailbox_exists(storage, name, &exists, err))
		return false;
	if (!exists)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_FOUND, "Mailbox doesn't exist: %s",
					 name);
	if (!mailbox_get_dirs(storage, name, &dir, &control, &index, err))
		return false;
	if (storage->loc->layout == MAIL_LAYOUT_FS && !has_children(storage, name, &children, err))
		goto out;
	if (children) {
		/* LAYOUT=fs keeps children inside the directory: remove only
		   the mailbox's own contents, leaving a \Noselect parent. */
		static const char *const own[] = {"cur", "new", "tmp"};
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			mailbox_error_errno(err, errno, "open(%s) failed", dir);
			goto out;
		}
		for (size_t i = 0; i < N_ELEMENTS(own); i++)
			(void)remove_tree(fd, own[i], 0);
		static const char *const files[] = {MAILDIR_UIDLIST_NAME, MAILDIR_KEYWORDS_NAME,
						    INDEX_FILE_NAME,	  INDEX_CACHE_FILE_NAME,
						    MAILDIR_FOLDER_FILE,  MAILBOX_LOCK_FILE};
		for (size_t i = 0; i < N_ELEMENTS(files); i++)
			(void)unlinkat(fd, files[i], 0);
		close(fd);
		ok = true;
		goto out;
	}
	if (!delete_dir(dir, err))
		goto out;
	if (strcmp(control, dir) != 0)
		(void)delete_dir(control, err);
	if (index != NULL && strcmp(index, dir) != 0)
		(void)delete_dir(index, err);
	mailbox_error_clear(err);
	ok = true;
out:
	free(dir);
	free(control);
	free(index);
	return ok;
}

/* Renames one set of directories (mail, control, index) of a mailbox. */
static bool rename_dirs(struct mail_storage *storage, const char *from, const char *to,
			struct mailbox_error *err)
{
	char *fd_[3], *td[3];
	bool ok = false;

	if (!mailbox_get_dirs(storage, from, &fd_[0], &fd_[1], &fd_[2], err))
		return false;
	if (!mailbox_get_dirs(storage, to, &td[0], &td[1], &td[2], err)) {
		free(fd_[0]);
		free(fd_[1]);
		free(fd_[2]);
		return false;
	}
	if (storage->loc->layout == MAIL_LAYOUT_FS) {
		char *slash = strrchr(td[0], '/');

		*slash = '\0';
		if (!mailbox_mkdir_parents(td[0], storage->dir_mode, err))
			goto out;
		*slash = '/';
	}
	if (renameat2(AT_FDCWD, fd_[0], AT_FDCWD, td[0], RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			mailbox_error_set(err, MAILBOX_ERROR_EXISTS,
					  "Target mailbox already exists");
		else
			mailbox_error_errno(err, errno, "rename(%s, %s) failed", fd_[0], td[0]);
		goto out;
	}
	for (int i = 1; i < 3; i++) {
		if (fd_[i] == NULL || strcmp(fd_[i], fd_[0]) == 0)
			continue;
		char *slash = strrchr(td[i], '/');

		*slash = '\0';
		(void)mailbox_mkdir_parents(td[i], storage->dir_mode, err);
		*slash = '/';
		if (rename(fd_[i], td[i]) < 0 && errno != ENOENT)
			log_warning("rename(%s, %s) failed: %m", fd_[i], td[i]);
	}
	mailbox_error_clear(err);
	ok = true;
out:
	for (int i = 0; i < 3; i++) {
		free(fd_[i]);
		free(td[i]);
	}
	return ok;
}

/* INBOX rename: move its messages into a new mailbox; INBOX stays. */
static bool rename_inbox(struct mail_storage *storage, const char *new_name,
			 struct mailbox_error *err)
{
	struct mailbox *inbox = NULL, *dest = NULL;
	struct lock_file *lock = NULL;
	bool ok = false;

	if (!mailbox_create(storage, new_name, err))
		return false;
	if (!mailbox_open(storage, "INBOX", MAILBOX_OPEN_SAVE_ONLY, &inbox, err) ||
	    !mailbox_open(storage, new_name, MAILBOX_OPEN_SAVE_ONLY, &dest, err))
		goto out;
	if (mailbox_sync_lock(inbox, &lock, err) <= 0)
		goto out;
	for (int d = 0; d < 2; d++) {
		int from = d == 0 ? inbox->cur_fd : inbox->new_fd;
		int to = d == 0 ? dest->cur_fd : dest->new_fd;
		int fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct dirent *de;
		DIR *dir;

		if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			mailbox_error_errno(err, errno, "open(%s) failed", inbox->dir);
			goto out;
		}
		while ((de = readdir(dir)) != NULL) {
			if (!maildir_filename_valid(de->d_name, strlen(de->d_name)))
				continue;
			if (maildir_rename_noreplace(from, de->d_name, to, de->d_name) < 0 &&
			    errno != ENOENT)
				log_warning("%s: could not move %s: %m", inbox->dir, de->d_name);
		}
		closedir(dir);
	}
	ok = true;
out:
	lock_file_release(&lock);
	mailbox_close(&inbox);
	mailbox_close(&dest);
	return ok;
}

bool mailbox_rename(struct mail_storage *storage, const char *old_name, const char *new_name,
		    struct mailbox_error *err)
{
	const struct mail_location *loc = storage->loc;
	struct mailbox_error local;
	struct mailbox_list list;
	size_t olen = strlen(old_name);
	bool exists, ok = true;

	if (err == NULL)
		err = &local;
	if (!mailbox_name_validate(new_name, loc->layout, err))
		return false;
	if (mailbox_name_is_inbox(new_name))
		return mailbox_error_set(err, MAILBOX_ERROR_EXISTS,
					 "Target mailbox already exists");
	if (!mail_storage_check_mounted(storage, err))
		return false;
	if (!mailbox_exists(storage, new_name, &exists, err))
		return false;
	if (exists)
		return mailbox_error_set(err, MAILBOX_ERROR_EXISTS,
					 "Target mailbox already exists");
	if (mailbox_name_is_inbox(old_name))
		return rename_inbox(storage, new_name, err);
	if (!mailbox_name_validate(old_name, loc->layout, err))
		return false;
	if (!mailbox_exists(storage, old_name, &exists, err))
		return false;
	if (!exists && loc->layout == MAIL_LAYOUT_FS) {
		/* A \Noselect parent is still a directory that can move. */
		char *dir, *control, *index;
		struct stat st;

		if (!mailbox_get_dirs(storage, old_name, &dir, &control, &index, err))
			return false;
		exists = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
		free(dir);
		free(control);
		free(index);
	}
	if (!exists)
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_FOUND, "Mailbox doesn't exist: %s",
					 old_name);
	if (strncmp(new_name, old_name, olen) == 0 && new_name[olen] == '/')
		return mailbox_error_set(err, MAILBOX_ERROR_NOT_ALLOWED,
					 "Can't rename mailbox under itself");
	if (loc->layout == MAIL_LAYOUT_FS)
		return rename_dirs(storage, old_name, new_name, err);
	/* Maildir++: the mailbox and each child are separate directories.
	   Check every target first so a clash leaves nothing half done. */
	if (!mailbox_list_get(storage, &list, err))
		return false;
	for (size_t i = 0; i < list.count && ok; i++) {
		const char *n = list.infos[i].name;
		char target[MAILBOX_NAME_MAX * 2 + 2];

		if ((list.infos[i].flags & (MAILBOX_INFO_NOSELECT | MAILBOX_INFO_NONEXISTENT)) !=
			    0 ||
		    strncmp(n, old_name, olen) != 0 || n[olen] != '/')
			continue;
		if (!str_format(target, sizeof(target), "%s%s", new_name, n + olen) ||
		    !mailbox_name_validate(target, loc->layout, err)) {
			ok = mailbox_error_set(err, MAILBOX_ERROR_INVALID_NAME,
					       "Invalid mailbox name: a child's new name is too "
					       "long");
			break;
		}
		if (!mailbox_exists(storage, target, &exists, err) || exists)
			ok = exists ? mailbox_error_set(err, MAILBOX_ERROR_EXISTS,
							"Target mailbox already exists: %s", target)
				    : false;
	}
	if (ok)
		ok = rename_dirs(storage, old_name, new_name, err);
	for (size_t i = 0; i < list.count && ok; i++) {
		const char *n = list.infos[i].name;
		char target[MAILBOX_NAME_MAX * 2 + 2];

		if ((list.infos[i].flags & (MAILBOX_INFO_NOSELECT | MAILBOX_INFO_NONEXISTENT)) !=
			    0 ||
		    strncmp(n, old_name, olen) != 0 || n[olen] != '/')
			continue;
		if (str_format(target, sizeof(target), "%s%s", new_name, n + olen) &&
		    !rename_dirs(storage, n, target, err))
			log_warning("rename of child %s failed: %s", n, err->text);
	}
	mailbox_list_free(&list);
	return ok;
}

/* ---- quota ---- */

/* Sizes of uidlist lines appended after offset (saved since the index
   was written). */
static void add_uidlist_tail(const char *path, const struct index_header *hdr,
			     struct quota_usage *usage)
{
	struct stat st;
	char *data;
	ssize_t n;
	size_t len;
	int fd;

	if (stat(path, &st) < 0 || (uint64_t)st.st_ino != hdr->uidlist_ino ||
	    (uint64_t)st.st_size <= hdr->uidlist_size)
		return;
	len = (size_t)((uint64_t)st.st_size - hdr->uidlist_size);
	if (len > 64 * 1024 * 1024)
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	data = i_malloc(len + 1);
	n = pread(fd, data, len, (off_t)hdr->uidlist_size);
	close(fd);
	if (n > 0) {
		struct maildir_uidlist ul;

		/* Parse the tail as records after a synthetic header. */
		maildir_uidlist_init(&ul);
		ul.have_header = true;
		ul.version = 3;
		ul.next_uid = 1;
		ul.uidvalidity = 1;
		(void)maildir_uidlist_parse(&ul, path, data, (size_t)n, NULL);
		for (size_t i = 0; i < ul.count; i++) {
			const struct maildir_uidlist_rec *rec = &ul.recs[i];
			struct maildir_filename fn;

			if (rec->uid == 0)
				continue;
			(void)maildir_filename_parse(maildir_uidlist_rec_name(&ul, rec),
						     rec->name_len, &fn);
			usage->messages++;
			if (fn.has_psize)
				usage->bytes += fn.psize;
			else if ((rec->flags & MAILDIR_UIDLIST_REC_PSIZE) != 0)
				usage->bytes += rec->psize;
		}
		maildir_uidlist_deinit(&ul);
	}
	free(data);
}

static bool mailbox_usage(struct mail_storage *storage, const char *name, struct quota_usage *usage,
			  struct mailbox_error *err)
{
	char *dir, *control, *index, *path;
	struct index_header hdr;
	int r = 0;

	if (!mailbox_get_dirs(storage, name, &dir, &control, &index, err))
		return false;
	if (index != NULL) {
		path = mailbox_path_join(index, INDEX_FILE_NAME);
		r = index_file_read_header(path, &hdr, NULL);
		free(path);
	}
	if (r > 0) {
		usage->bytes += hdr.total_psize;
		usage->messages += hdr.messages_count;
		path = mailbox_path_join(control, MAILDIR_UIDLIST_NAME);
		add_uidlist_tail(path, &hdr, usage);
		free(path);
	} else {
		/* No usable index: a sync builds one (and counts exactly). */
		struct mailbox *box;

		if (mailbox_open(storage, name, MAILBOX_OPEN_READONLY, &box, err)) {
			for (uint32_t seq = 1; seq <= mailbox_count(box); seq++)
				usage->bytes += mailbox_record(box, seq)->psize;
			usage->messages += mailbox_count(box);
			mailbox_close(&box);
		} else if (err != NULL && err->code != MAILBOX_ERROR_NOT_FOUND) {
			free(dir);
			free(control);
			free(index);
			return false;
		}
		mailbox_error_clear(err);
	}
	free(dir);
	free(control);
	free(index);
	return true;
}

bool mail_storage_quota_usage(struct mail_storage *storage, struct quota_usage *usage_r,
			      struct mailbox_error *err)
{
	struct mailbox_list list;

	memset(usage_r, 0, sizeof(*usage_r));
	if (!mailbox_list_get(storage, &list, err))
		return false;
	for (size_t i = 0; i < list.count; i++) {
		const struct mailbox_info *info = &list.infos[i];

		if ((info->flags & (MAILBOX_INFO_NOSELECT | MAILBOX_INFO_NONEXISTENT)) != 0 ||
		    quota_rules_ignored(&storage->quota, info->name))
			continue;
		if (!mailbox_usage(storage, info->name, usage_r, err)) {
			mailbox_list_free(&list);
			return false;
		}
	}
	mailbox_list_free(&list);
	return true;
}

bool mailbox_quota_check(struct mailbox *box, uint64_t size, uint64_t count,
			 struct mailbox_error *err)
{
	struct quota_usage usage;

	if (quota_rules_empty(&box->storage->quota) ||
	    quota_rules_ignored(&box->storage->quota, box->name))
		return true;
	if (!mail_storage_quota_usage(box->storage, &usage, err))
		return false;
	return quota_check(&box->storage->quota, box->name, &usage, size, count, err);
}
