/*
 * COMPRESS (RFC 4978): after the tagged OK, which goes out uncompressed,
 * every byte in both directions is raw deflate. Only DEFLATE exists; a
 * second COMPRESS gets NO [COMPRESSIONACTIVE].
 */
#include "compress-deflate.h"
#include "imap.h"
#include "log.h"

static bool compress_active;

void cmd_compress(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct connection_filter *filter;
	const char *error;

	if (cmd->argc != 1 || !imap_arg_atom_equals(&cmd->args[0], "DEFLATE")) {
		imap_cmd_reply(cmd, "BAD Unknown compression mechanism.");
		return;
	}
	if (compress_active) {
		imap_cmd_reply(cmd, "NO [COMPRESSIONACTIVE] Compression already enabled.");
		return;
	}
	filter = compress_deflate_create(COMPRESS_DEFLATE_LEVEL, &error);
	if (filter == NULL) {
		log_error("COMPRESS: %s", error);
		imap_cmd_reply(cmd, "NO [UNAVAILABLE] Compression is not available.");
		return;
	}
	imap_cmd_ok(cmd, "Begin compression.");
	connection_set_filter(client->conn, filter);
	compress_active = true;
}
