/*
 * POP3 command parser (see pop3-cmd.h).
 */
#include <string.h>

#include "pop3-cmd.h"

bool pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
	size_t i = 0, name_len = 0;
	char *p;

	memset(cmd, 0, sizeof(*cmd));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len > POP3_LINE_MAX)
		return false;
	for (size_t j = 0; j < len; j++) {
		unsigned char ch = (unsigned char)line[j];

		if (ch < 0x20 && ch != '\t')
			return false;
	}
	while (i < len && line[i] != ' ') {
		char ch = line[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9' && name_len > 0) || (ch == '-' && name_len > 0)))
			return false;
		if (name_len + 1 >= sizeof(cmd->name))
			return false;
		cmd->name[name_len++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
		i++;
	}
	if (name_len == 0)
		return false;
	/* The first copy keeps the rest of the line whole (PASS needs it). */
	memcpy(cmd->storage, line + i, len - i);
	cmd->storage[len - i] = '\0';
	cmd->rest = cmd->storage + (i < len ? 1 : 0);
	/* The second copy is split at spaces into arguments. */
	p = cmd->storage + (len - i) + 1;
	memcpy(p, cmd->rest, strlen(cmd->rest) + 1);
	while (*p != '\0') {
		char *end;

		if (*p == ' ' || cmd->argc == POP3_CMD_ARGS_MAX) {
			/* Empty or too many arguments: only the rest of the line is usable. */
			cmd->argc = 0;
			cmd->args_bad = true;
			return true;
		}
		cmd->args[cmd->argc++] = p;
		end = strchr(p, ' ');
		if (end == NULL)
			break;
		*end = '\0';
		p = end + 1;
		if (*p == '\0') {
			cmd->argc = 0;
			cmd->args_bad = true;
			return true;
		}
	}
	return true;
}
