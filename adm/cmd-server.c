/*
 * roostadm stop | reload | log reopen: control the running master. stop
 * and reload work with a configuration that no longer parses: master
 * judges it (a refused reload prints master's parse error, exit 89).
 */
#include <stdio.h>
#include <string.h>

#include "adm.h"
#include "log.h"

static int simple_request(struct adm_context *ctx, uint16_t type)
{
	struct admin_request req;
	const char *message;
	uint32_t status;

	memset(&req, 0, sizeof(req));
	status = adm_request(ctx, type, &req, NULL, NULL, &message);
	if (status == ADMIN_STATUS_CONFIG) {
		log_printf(LOG_LEVEL_FATAL, "%s", message);
		return ADM_EXIT_CONFIG;
	}
	if (status != 0) {
		log_error("%s", message);
		return 1;
	}
	return ADM_EXIT_OK;
}

int cmd_stop(struct adm_context *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ADM_EXIT_USAGE;
	adm_settings_lenient(ctx);
	return simple_request(ctx, ADMIN_STOP);
}

int cmd_reload(struct adm_context *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return ADM_EXIT_USAGE;
	adm_settings_lenient(ctx);
	return simple_request(ctx, ADMIN_RELOAD);
}

int cmd_log(struct adm_context *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "reopen") != 0)
		return ADM_EXIT_USAGE;
	return simple_request(ctx, ADMIN_LOG_REOPEN);
}
