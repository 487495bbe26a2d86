/*
 * roostadm stats [-f FORMAT]: counters kept by policy and master, as
 * "name value" lines (default) or a JSON object (-f json).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "adm.h"
#include "log.h"

struct stats_ctx {
	bool json;
	unsigned int rows;
};

static void print_row(void *_ctx, uint16_t type, const union admin_msg_any *m)
{
	struct stats_ctx *ctx = _ctx;

	if (type != ADMIN_STATS_ROW)
		return;
	if (ctx->json)
		printf("%s\n  \"%s\": %llu", ctx->rows == 0 ? "{" : ",", m->stats_row.name,
		       (unsigned long long)m->stats_row.value);
	else
		printf("%s %llu\n", m->stats_row.name, (unsigned long long)m->stats_row.value);
	ctx->rows++;
}

int cmd_stats(struct adm_context *ctx, int argc, char **argv)
{
	struct admin_request req;
	struct stats_ctx sctx = {0};
	const char *message;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "f:")) != -1) {
		if (c != 'f')
			return ADM_EXIT_USAGE;
		if (strcmp(optarg, "json") == 0)
			sctx.json = true;
		else if (strcmp(optarg, "flow") != 0 && strcmp(optarg, "text") != 0)
			return ADM_EXIT_USAGE;
	}
	if (optind != argc)
		return ADM_EXIT_USAGE;
	memset(&req, 0, sizeof(req));
	if (adm_request(ctx, ADMIN_STATS, &req, print_row, &sctx, &message) != 0) {
		log_error("%s", message);
		return 1;
	}
	if (sctx.json)
		printf("%s\n}\n", sctx.rows == 0 ? "{" : "");
	return ADM_EXIT_OK;
}
