/*
 * roostadm config [-n] [SETTING...]: the effective configuration as
 * doveconf prints it; -n only what differs from the defaults; named
 * settings print just their values.
 */
#include <getopt.h>
#include <stdio.h>

#include "adm.h"
#include "log.h"

int cmd_config(struct adm_context *ctx, int argc, char **argv)
{
	struct buf out = BUF_INIT(64 * 1024 * 1024);
	bool only_changed = false;
	const struct roost_settings *set;
	int c, ret = ADM_EXIT_OK;

	optind = 1;
	while ((c = getopt(argc, argv, "n")) != -1) {
		if (c != 'n')
			return ADM_EXIT_USAGE;
		only_changed = true;
	}
	set = adm_settings(ctx);
	if (optind == argc) {
		printf("# roost configuration: %s\n", ctx->config_path);
		settings_write(&out, set, only_changed, false);
		fwrite(buf_data(&out), 1, buf_len(&out), stdout);
	}
	for (int i = optind; i < argc; i++) {
		buf_reset(&out);
		if (!settings_get_text(set, argv[i], &out)) {
			log_error("Unknown setting: %s", argv[i]);
			ret = 1;
			continue;
		}
		printf("%s = %s\n", argv[i], buf_cstr(&out));
	}
	buf_free(&out);
	return ret;
}
