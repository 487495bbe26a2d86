/*
 * roost-sieve-dev: a development front end that dispatches to the sieve
 * check and test tools (what roostadm sieve check/test will call). Runs as
 * the invoking user; used by the differential tests against Pigeonhole.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "../sieve-tool.h"

int main(int argc, char **argv)
{
	log_init_stderr("roost-sieve-dev");
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return sieve_tool_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return sieve_tool_test(argc - 1, argv + 1);
	fprintf(stderr, "usage: roost-sieve-dev check|test ARGS...\n");
	return 64;
}
