/*
 * roost-lda's report of each delivery's outcome to the running server
 * (see stats.c in this folder).
 */
#ifndef ROOST_LDA_STATS_H
#define ROOST_LDA_STATS_H

#include "lda.h"

/*
 * Connects to base_dir/lda-stats (call before the sandbox, which allows no
 * new sockets) and arranges for one report when the process exits: the
 * outcome follows from the exit code and, for exit 0, from d (status
 * REJECTED: rejected, nothing saved: discarded, else stored). Best effort:
 * a server that is not running, not listening or too busy costs nothing
 * and is not reported; no call ever blocks. Only the process that called
 * it reports (not a child forked later).
 */
void lda_stats_start(const char *base_dir, const struct lda_delivery *d);

#endif
