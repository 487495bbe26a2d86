/*
 * Messages between master and every child it spawns, on the child's
 * descriptor IPC_MASTER_FD: the start-up hand-over (settings and identity)
 * and the child's readiness and load reports. master trusts none of what a
 * child reports beyond counting it.
 */
#ifndef ROOST_MSG_CHILD_H
#define ROOST_MSG_CHILD_H

#include "ipc-codec.h"

/*
 * Types live in their own range so that a service's channel can carry
 * these next to its own protocol's messages.
 */
#define CHILD_MSG_FIRST 0x7f00
#define CHILD_MSG_LAST	0x7fff

enum child_msg_type {
	/* master -> child */
	CHILD_SETTINGS_CHUNK = 0x7f01, /* part of the flattened settings text */
	CHILD_INIT = 0x7f02,	       /* identity; ends the start-up hand-over */
	CHILD_SHUTDOWN = 0x7f03,       /* finish current clients, accept no more, exit */
	/* child -> master */
	CHILD_READY = 0x7f10, /* sandbox entered, serving */
	CHILD_STATUS = 0x7f11,
};

#define CHILD_SETTINGS_CHUNK_MAX (IPC_MAX_PAYLOAD - 16)

struct child_settings_chunk {
	uint8_t data[CHILD_SETTINGS_CHUNK_MAX];
	size_t data_len;
};

enum child_init_flags {
	CHILD_INIT_CHANGE_USER = 0x01, /* master runs as root: drop to uid/gid */
	CHILD_INIT_DEBUG = 0x02,
};

struct child_init {
	char service[32];
	uint32_t flags;
	uint32_t uid;
	uint32_t gid;
	char chroot[1024]; /* "" = no chroot */
	uint64_t vsz_limit;
	uint32_t client_limit;
	uint64_t nofile_limit;
	char test_hook[64];
};

struct child_shutdown {
	uint32_t reserved;
};

struct child_ready {
	uint32_t pid;
};

struct child_status {
	uint32_t clients;
};

union child_msg_any {
	struct child_settings_chunk chunk;
	struct child_init init;
	struct child_shutdown shutdown;
	struct child_ready ready;
	struct child_status status;
};

extern const struct ipc_channel child_channel;
#define CHILD_MSG(type) (ipc_channel_find(&child_channel, (type)))

#endif
