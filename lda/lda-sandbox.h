/*
 * The sandbox profile of roost-lda (see sandbox.c in this folder) and the
 * Landlock paths of one delivery.
 */
#ifndef ROOST_LDA_SANDBOX_H
#define ROOST_LDA_SANDBOX_H

#include "../storage/mail-location.h"
#include "sandbox/sandbox.h"

/* Most Landlock paths one delivery needs. */
#define LDA_SANDBOX_PATHS_MAX 6

extern const struct sandbox_profile lda_sandbox;

/*
 * The paths roost-lda may use once confined: the user's home (may be NULL
 * or ""), the mail root, INBOX, INDEX and CONTROL directories, all
 * read-write, and /proc/self/mountinfo read-only when mountpoints are
 * registered (the store reads it to tell a bind mount from a bare
 * directory). Fills paths (pointers into loc, home or static strings) and
 * returns the count.
 */
size_t lda_sandbox_paths(const struct mail_location *loc, const char *home, bool mountinfo,
			 struct sandbox_path paths[LDA_SANDBOX_PATHS_MAX]);

#endif
