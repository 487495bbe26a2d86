/*
 * The sandbox profile of roostadm's mail commands (see sandbox.c in this
 * folder).
 */
#ifndef ROOST_ADM_SANDBOX_H
#define ROOST_ADM_SANDBOX_H

#include "sandbox/sandbox.h"

/* Most Landlock paths of one user: home, mail dirs, mountinfo. */
#define ADM_SANDBOX_PATHS_MAX 8

extern const struct sandbox_profile adm_mail_sandbox;

#endif
