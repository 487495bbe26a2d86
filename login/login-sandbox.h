/*
 * The sandbox profile of roost-login (see sandbox.c in this folder).
 */
#ifndef ROOST_LOGIN_SANDBOX_H
#define ROOST_LOGIN_SANDBOX_H

#include "sandbox/sandbox.h"

extern const struct sandbox_profile login_sandbox;

#endif
