/*
 * roost-auth: passdb/userdb lookups, password schemes, SASL and one-time
 * login tokens. Started by master as root, it resolves the names in its
 * configuration, then confines itself (default_internal_user, no
 * capabilities, Landlock read-only on the directories of its passdb and
 * userdb files, strict seccomp) before its first request.
 */
#include <stdlib.h>
#include <string.h>

#include "auth-sandbox.h"
#include "auth.h"
#include "child.h"
#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

#define AUTH_USERDB_LISTEN_FD 4
#define AUTH_MAX_DB_PATHS     16

const struct roost_settings *auth_set;

/* Landlock rules: read-only on the directory of every passwd-file. */
static unsigned int db_landlock_paths(struct sandbox_path *paths, char (*dirs)[1024],
				      unsigned int max)
{
	const char *files[AUTH_MAX_DB_PATHS];
	unsigned int n = auth_db_paths(files, AUTH_MAX_DB_PATHS), count = 0;

	for (unsigned int i = 0; i < n && count < max; i++) {
		const char *slash = strrchr(files[i], '/');

		if (slash == NULL || slash == files[i])
			(void)str_copy(dirs[count], sizeof(dirs[count]), slash == NULL ? "." : "/");
		else
			(void)str_copy_n(dirs[count], sizeof(dirs[count]), files[i],
					 (size_t)(slash - files[i]));
		paths[count].path = dirs[count];
		paths[count].access = SANDBOX_FS_READ;
		count++;
	}
	return count;
}

int main(int argc, char **argv)
{
	struct child_context ctx;
	struct sandbox_identity id;
	struct sandbox_path paths[AUTH_MAX_DB_PATHS];
	char dirs[AUTH_MAX_DB_PATHS][1024];

	child_describe_sandbox(argc, argv, &auth_sandbox);
	/* 1. What master handed over. */
	child_init(&ctx);
	auth_set = ctx.set;

	/* 2. Names resolved, connections set up, while the doors are open. */
	ioloop_init();
	auth_tokens_init(AUTH_TOKEN_LIFETIME_MSECS);
	auth_master_init(ctx.master_fd);
	auth_userdb_server_init(AUTH_USERDB_LISTEN_FD);

	/* 3. Drop privileges: internal user, read-only files, seccomp. */
	child_sandbox_identity(&ctx, &id);
	id.paths = paths;
	id.path_count = db_landlock_paths(paths, dirs, AUTH_MAX_DB_PATHS);
	sandbox_enter(&auth_sandbox, &id);
	child_run_test_hook(ctx.service->test_hook);

	/* 4. Read the databases as the unprivileged user, then serve. */
	auth_db_init();
	child_ready(&ctx);
	ioloop_run();
	fatal("auth: event loop returned");
}
