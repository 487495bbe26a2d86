/*
 * roost-policy's connection to master (see server.c).
 */
#ifndef ROOST_POLICY_SERVER_H
#define ROOST_POLICY_SERVER_H

#include "ipc/msg-policy.h"

/* Starts serving master's requests on master_fd (after the hand-over). */
void policy_server_init(int master_fd, unsigned int penalty_max_msecs);

#endif
