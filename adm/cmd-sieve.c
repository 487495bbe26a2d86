/*
 * roostadm sieve check|test: the Sieve engine's command-line tools, with
 * the plugin { } settings of roost.conf applied first (as Pigeonhole's
 * sieve-test reads dovecot.conf). The configuration is optional: without
 * -c and with no installed roost.conf the tools run on built-in defaults,
 * so scripts can be checked on a machine that does not run roost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adm.h"
#include "buf.h"
#include "lda/sieve/sieve-tool.h"
#include "xalloc.h"

/* "key=value" strings for every plugin { } setting, NULL-terminated. */
static char **plugin_conf(const struct roost_settings *set)
{
	char **conf = i_calloc(set->plugin_count + 1, sizeof(*conf));

	for (unsigned int i = 0; i < set->plugin_count; i++) {
		size_t len = strlen(set->plugin[i].key) + strlen(set->plugin[i].value) + 2;

		conf[i] = i_malloc(len);
		(void)str_format(conf[i], len, "%s=%s", set->plugin[i].key, set->plugin[i].value);
	}
	return conf;
}

int cmd_sieve(struct adm_context *ctx, int argc, char **argv)
{
	char **conf = NULL;
	int ret;

	if (argc < 2)
		return ADM_EXIT_USAGE;
	if (ctx->config_given || access(ctx->config_path, F_OK) == 0)
		conf = plugin_conf(adm_settings(ctx));
	if (strcmp(argv[1], "check") == 0)
		ret = sieve_tool_check_conf(argc - 1, argv + 1, (const char *const *)conf);
	else if (strcmp(argv[1], "test") == 0)
		ret = sieve_tool_test_conf(argc - 1, argv + 1, (const char *const *)conf);
	else
		ret = ADM_EXIT_USAGE;
	for (size_t i = 0; conf != NULL && conf[i] != NULL; i++)
		free(conf[i]);
	free(conf);
	return ret;
}
