/*
 * libFuzzer harness for the POP3 command line parser (lib/pop3-cmd.c):
 * every accepted line yields a keyword and arguments inside the line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3-cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pop3_cmd cmd;

	if (!pop3_cmd_parse((const char *)data, size, &cmd))
		return 0;
	if (cmd.name[0] == '\0' || strlen(cmd.rest) > size)
		abort();
	for (unsigned int i = 0; i < cmd.argc; i++) {
		if (cmd.args[i][0] == '\0' || strchr(cmd.args[i], ' ') != NULL)
			abort();
	}
	return 0;
}
