/*
 * POP3 command line parsing (RFC 1939, RFC 2449): a case-insensitive
 * keyword and space-separated arguments. Used by roost-login before
 * authentication and roost-pop3 after, on hostile input.
 */
#ifndef ROOST_POP3_CMD_H
#define ROOST_POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define POP3_CMD_NAME_MAX 41 /* keywords are at most 40 characters */
#define POP3_CMD_ARGS_MAX 4
#define POP3_LINE_MAX	  4096

struct pop3_cmd {
	char name[POP3_CMD_NAME_MAX]; /* upper-cased */
	unsigned int argc;
	bool args_bad; /* empty or too many arguments: argc is 0, use rest */
	char *args[POP3_CMD_ARGS_MAX];
	char *rest; /* everything after the keyword and one space ("" if none) */
	char storage[2 * (POP3_LINE_MAX + 1)]; /* the rest, then the split arguments */
};

/*
 * Parses one line (without or with its CR; no LF). Returns false for an
 * empty or overlong line, a keyword that is not alphabetic, NUL or other
 * control bytes. Arguments that do not split cleanly (double spaces, more
 * than POP3_CMD_ARGS_MAX) set args_bad; rest still holds the whole text.
 * The pointers in cmd point into cmd->storage.
 */
bool pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);

#endif
