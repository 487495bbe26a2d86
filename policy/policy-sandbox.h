/*
 * The sandbox profile of roost-policy (see sandbox.c in this folder).
 */
#ifndef ROOST_POLICY_SANDBOX_H
#define ROOST_POLICY_SANDBOX_H

#include "sandbox/sandbox.h"

extern const struct sandbox_profile policy_sandbox;

#endif
