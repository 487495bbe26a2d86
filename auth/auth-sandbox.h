/*
 * The sandbox profile of roost-auth (see sandbox.c in this folder).
 */
#ifndef ROOST_AUTH_SANDBOX_H
#define ROOST_AUTH_SANDBOX_H

#include "sandbox/sandbox.h"

extern const struct sandbox_profile auth_sandbox;

#endif
