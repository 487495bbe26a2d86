/*
 * Finds the scripts of a delivery from Pigeonhole's location settings and
 * writes the user's sieve log. Runs in roost-lda and roostadm; paths come
 * from the administrator, and only configured files and directories are
 * opened (directory listings are bounded by SIEVE_MAX_SEQUENCE).
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

#include "sieve-files.h"
#include "sieve-private.h"

/* Expands "~/" and strips Pigeonhole's "file:" prefix and ";options". */
static const char *location_path(struct pool *pool, const char *loc, const char *home,
				 const char **active_r)
{
	const char *semi, *opt;
	const char *path;

	*active_r = NULL;
	if (strncmp(loc, "file:", 5) == 0)
		loc += 5;
	semi = strchr(loc, ';');
	path = semi == NULL ? loc : p_strndup(pool, loc, (size_t)(semi - loc));
	for (opt = semi; opt != NULL; opt = strchr(opt + 1, ';')) {
		if (strncmp(opt + 1, "active=", 7) == 0) {
			const char *end = strchr(opt + 8, ';');

			*active_r = end == NULL
					    ? p_strdup(pool, opt + 8)
					    : p_strndup(pool, opt + 8, (size_t)(end - (opt + 8)));
		}
	}
	if (strncmp(path, "~/", 2) == 0 || strcmp(path, "~") == 0) {
		if (home == NULL)
			return NULL;
		path = p_strdup_printf(pool, "%s%s", home, path + 1);
	}
	if (*active_r != NULL && strncmp(*active_r, "~/", 2) == 0)
		*active_r =
			home == NULL ? NULL : p_strdup_printf(pool, "%s%s", home, *active_r + 1);
	return path;
}

static int path_kind(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (S_ISDIR(st.st_mode))
		return 2;
	return S_ISREG(st.st_mode) ? 1 : -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool add_path(struct sieve_script_files *out, const char *path, const char **error_r)
{
	if (out->count >= SIEVE_MAX_SEQUENCE) {
		*error_r = "too many scripts in the sieve_before/sieve_after sequence";
		return false;
	}
	out->paths[out->count++] = path;
	return true;
}

/* Adds a sieve_before/after location: a file, or a directory's scripts. */
static int add_location(struct pool *pool, const char *loc, const char *home,
			struct sieve_script_files *out, const char **error_r)
{
	const char *active, *path = location_path(pool, loc, home, &active);
	const char *names[SIEVE_MAX_SEQUENCE];
	unsigned int n = 0, i;
	struct dirent *de;
	DIR *dir;
	int kind;

	if (path == NULL) {
		*error_r = p_strdup_printf(pool, "%s: location needs a home directory", loc);
		return -1;
	}
	kind = path_kind(path);
	if (kind == 0)
		return 0;
	if (kind == 1)
		return add_path(out, path, error_r) ? 0 : -1;
	if (kind < 0 || (dir = opendir(path)) == NULL) {
		*error_r = p_strdup_printf(pool, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 6 || strcmp(de->d_name + len - 6, ".sieve") != 0)
			continue;
		if (n >= N_ELEMENTS(names)) {
			(void)closedir(dir);
			*error_r = p_strdup_printf(pool, "%s: too many scripts", path);
			return -1;
		}
		names[n++] = p_strdup(pool, de->d_name);
	}
	(void)closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		if (!add_path(out, p_strdup_printf(pool, "%s/%s", path, names[i]), error_r))
			return -1;
	}
	return 0;
}

int sieve_script_files_resolve(const struct sieve_settings *set, const char *home,
			       struct pool *pool, struct sieve_script_files *out,
			       const char **error_r)
{
	const char *user = NULL, *active = NULL;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->user_index = -1;
	*error_r = NULL;
	/* Numbered settings stop at the first missing one, as in Pigeonhole. */
	for (i = 0; i < SIEVE_MAX_LOCATIONS && set->sieve_before[i] != NULL; i++) {
		if (add_location(pool, set->sieve_before[i], home, out, error_r) < 0)
			return -1;
	}
	if (set->sieve != NULL) {
		const char *path = location_path(pool, set->sieve, home, &active);
		int kind = path == NULL ? 0 : path_kind(path);

		if (kind == 2) {
			out->personal_dir = path;
			if (active != NULL && path_kind(active) == 1)
				user = active;
			out->user_log =
				active != NULL ? p_strdup_printf(pool, "%s.log", active) : NULL;
		} else if (kind == 1) {
			user = path;
			out->user_log = p_strdup_printf(pool, "%s.log", path);
		} else if (active != NULL && path_kind(active) == 1) {
			/* Only the active file exists: it is used on its own. */
			user = active;
			out->user_log = p_strdup_printf(pool, "%s.log", active);
		} else if (path != NULL && active == NULL) {
			out->user_log = p_strdup_printf(pool, "%s.log", path);
		}
	}
	if (set->sieve_dir != NULL && out->personal_dir == NULL) {
		const char *a;

		out->personal_dir = location_path(pool, set->sieve_dir, home, &a);
	}
	if (out->user_log == NULL && home != NULL)
		out->user_log = p_strdup_printf(pool, "%s/.dovecot.sieve.log", home);
	if (set->user_log != NULL) {
		const char *a;

		out->user_log = location_path(pool, set->user_log, home, &a);
	}
	if (user == NULL && set->sieve_default != NULL) {
		const char *a, *path = location_path(pool, set->sieve_default, home, &a);

		if (path != NULL && path_kind(path) == 1) {
			user = path;
			out->user_is_default = true;
		}
	}
	if (user != NULL) {
		out->user_index = (int)out->count;
		if (!add_path(out, user, error_r))
			return -1;
	}
	for (i = 0; i < SIEVE_MAX_LOCATIONS && set->sieve_after[i] != NULL; i++) {
		if (add_location(pool, set->sieve_after[i], home, out, error_r) < 0)
			return -1;
	}
	if (set->sieve_global != NULL) {
		const char *a;

		out->global_dir = location_path(pool, set->sieve_global, home, &a);
	}
	return 0;
}

bool sieve_user_log_append(const char *path, const char *text, const char **error_r)
{
	char rotated[4096];
	struct stat st;
	bool fresh = false;
	FILE *f;
	int fd;

	if (stat(path, &st) == 0 && st.st_size > SIEVE_USER_LOG_MAX_SIZE) {
		if (!str_format(rotated, sizeof(rotated), "%s.0", path) ||
		    rename(path, rotated) < 0) {
			*error_r = "failed to rotate the log";
			return false;
		}
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = strerror(errno);
		return false;
	}
	if (fstat(fd, &st) == 0 && st.st_size == 0)
		fresh = true;
	f = fdopen(fd, "a");
	if (f == NULL) {
		*error_r = strerror(errno);
		(void)close(fd);
		return false;
	}
	if (fresh) {
		char stamp[64];
		time_t now = time(NULL);
		struct tm tm;

		if (localtime_r(&now, &tm) != NULL &&
		    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", &tm) > 0)
			fprintf(f, "sieve: info: started log at %s.\n", stamp);
	}
	fputs(text, f);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		fputc('\n', f);
	if (fclose(f) != 0) {
		*error_r = strerror(errno);
		return false;
	}
	return true;
}
