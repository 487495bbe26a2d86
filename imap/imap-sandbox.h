/*
 * The sandbox profile of roost-imap (see sandbox.c in this folder).
 */
#ifndef ROOST_IMAP_SANDBOX_H
#define ROOST_IMAP_SANDBOX_H

#include "sandbox/sandbox.h"

extern const struct sandbox_profile imap_sandbox;

#endif
