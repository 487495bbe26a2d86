/*
 * roostadm mount add|remove|list [PATH]: the mountpoint guard, as
 * Dovecot's doveadm mount. Mail roots below a registered mountpoint that is
 * not mounted get a temporary failure instead of mail written into the bare
 * directory. The list lives in state_dir/mounts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "adm.h"
#include "log.h"
#include "storage/mountpoint.h"

static void state_file(struct adm_context *ctx, char *out, size_t size)
{
	const struct roost_settings *set = adm_settings(ctx);

	if (!str_format(out, size, "%s/%s", set->state_dir, MOUNTPOINT_STATE_FILE))
		fatal("state_dir is too long");
	/* The first registration may come before the server ever ran. */
	if (mkdir(set->state_dir, 0755) < 0 && errno != EEXIST)
		fatal("mkdir(%s) failed: %m", set->state_dir);
}

int cmd_mount(struct adm_context *ctx, int argc, char **argv)
{
	char path[1100];
	struct mailbox_error err;
	struct mountpoint_list list = {0};

	if (argc < 2)
		return ADM_EXIT_USAGE;
	state_file(ctx, path, sizeof(path));
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		if (!mountpoint_list_read(path, &list, &err)) {
			log_error("%s", err.text);
			return 1;
		}
		printf("path state\n");
		for (size_t i = 0; i < list.count; i++)
			printf("%s %s\n", list.paths[i],
			       mountpoint_is_mounted(list.paths[i]) ? "mounted" : "NOT-MOUNTED");
		mountpoint_list_free(&list);
		return ADM_EXIT_OK;
	}
	if (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0))
		return ADM_EXIT_USAGE;
	if (argv[2][0] != '/') {
		log_error("%s: the mountpoint must be an absolute path", argv[2]);
		return ADM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "add") == 0 ? !mountpoint_add(path, argv[2], &err)
					: !mountpoint_remove(path, argv[2], &err)) {
		log_error("%s", err.text);
		return err.code == MAILBOX_ERROR_NOT_FOUND ? ADM_EXIT_NOTFOUND : 1;
	}
	return ADM_EXIT_OK;
}
