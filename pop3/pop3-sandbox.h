/*
 * The sandbox profile of roost-pop3 (see sandbox.c in this folder).
 */
#ifndef ROOST_POP3_SANDBOX_H
#define ROOST_POP3_SANDBOX_H

#include "sandbox/sandbox.h"

extern const struct sandbox_profile pop3_sandbox;

#endif
