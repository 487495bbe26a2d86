/*
 * Field tables of the master <-> child channel (see msg-child.h).
 */
#include "msg-child.h"

static const struct ipc_field chunk_fields[] = {
	IPC_BLOB(struct child_settings_chunk, data, data_len),
};
static const struct ipc_field init_fields[] = {
	IPC_STR(struct child_init, service),	  IPC_U32(struct child_init, flags),
	IPC_U32(struct child_init, uid),	  IPC_U32(struct child_init, gid),
	IPC_STR(struct child_init, chroot),	  IPC_U64(struct child_init, vsz_limit),
	IPC_U32(struct child_init, client_limit), IPC_U64(struct child_init, nofile_limit),
	IPC_STR(struct child_init, test_hook),
};
static const struct ipc_field shutdown_fields[] = {
	IPC_U32(struct child_shutdown, reserved),
};
static const struct ipc_field ready_fields[] = {
	IPC_U32(struct child_ready, pid),
};
static const struct ipc_field status_fields[] = {
	IPC_U32(struct child_status, clients),
};

static const struct ipc_msg_def child_msgs[] = {
	IPC_MSG(CHILD_SETTINGS_CHUNK, struct child_settings_chunk, chunk_fields, 0),
	IPC_MSG(CHILD_INIT, struct child_init, init_fields, 0),
	IPC_MSG(CHILD_SHUTDOWN, struct child_shutdown, shutdown_fields, 0),
	IPC_MSG(CHILD_READY, struct child_ready, ready_fields, 0),
	IPC_MSG(CHILD_STATUS, struct child_status, status_fields, 0),
};

const struct ipc_channel child_channel = {"child", child_msgs, N_ELEMENTS(child_msgs)};
