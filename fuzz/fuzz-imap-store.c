/*
 * libFuzzer harness for roost-imap's STORE arguments and APPEND flag lists
 * (imap/flags-parse.c, compiled in here): fed through the real command
 * parser as "a STORE 1 <input>"; accepted flags must be valid system flag
 * bits and keyword names of atom characters, without duplicates.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/flags-parse.c"
#include "imap-parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct imap_flag_list *list)
{
	if ((list->flags & ~MAIL_FLAGS_MASK) != 0 || list->keyword_count > IMAP_FLAGS_MAX_KEYWORDS)
		abort();
	for (size_t i = 0; i < list->keyword_count; i++) {
		const char *k = list->keywords[i];

		if (k[0] == '\0' || k[0] == '\\' || strlen(k) > IMAP_FLAGS_MAX_KEYWORD_LEN)
			abort();
		for (size_t j = 0; k[j] != '\0'; j++) {
			if (!atom_char((uint8_t)k[j]))
				abort();
		}
		for (size_t j = 0; j < i; j++) {
			if (strcasecmp(k, list->keywords[j]) == 0)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	struct imap_store_args args;
	struct imap_flag_list list;
	struct buf line = BUF_INIT(70000);
	const char *error;
	size_t consumed = 0;

	if (size > 60000 || memchr(data, '\n', size) != NULL)
		return 0;
	(void)buf_append_str(&line, "a STORE 1 ");
	(void)buf_append(&line, data, size);
	(void)buf_append_str(&line, "\r\n");
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	if (imap_parser_parse(parser, buf_data(&line), buf_len(&line), &consumed, &ev) ==
		    IMAP_PARSE_COMMAND &&
	    ev.cmd->argc >= 1) {
		if (imap_store_args_parse(ev.cmd->args + 1, ev.cmd->argc - 1, &args, &error))
			check(&args.flags);
		else if (error == NULL)
			abort();
		/* The same arguments as APPEND's flag list. */
		if (imap_flags_parse(ev.cmd->args + 1, 1, &list, &error))
			check(&list);
	}
	imap_parser_destroy(&parser);
	buf_free(&line);
	return 0;
}
