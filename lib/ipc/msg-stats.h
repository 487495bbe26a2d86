/*
 * The roost-lda -> master channel on base_dir/lda-stats: after each
 * delivery roost-lda reports what became of the message, and master counts
 * it for `roostadm stats`. One fixed-size message, no reply. The sender is
 * any local process allowed to connect (the socket takes auth-userdb's
 * group and mode), so master trusts a report only as far as counting it.
 */
#ifndef ROOST_MSG_STATS_H
#define ROOST_MSG_STATS_H

#include "ipc-codec.h"

#define LDA_STATS_SOCKET "lda-stats"

enum stats_msg_type {
	STATS_DELIVERY = 1, /* roost-lda -> master, once per connection */
};

/* What became of one delivery; the names are `roostadm stats` counters. */
enum stats_delivery_outcome {
	STATS_DELIVERY_STORED = 0,    /* deliveries_stored: in a mailbox */
	STATS_DELIVERY_TEMPFAIL = 1,  /* deliveries_tempfail: the MTA retries */
	STATS_DELIVERY_REJECTED = 2,  /* deliveries_rejected: a permanent failure */
	STATS_DELIVERY_DISCARDED = 3, /* deliveries_discarded: stored nowhere */
	STATS_DELIVERY_OUTCOME_COUNT,
};

struct stats_delivery {
	uint32_t outcome; /* enum stats_delivery_outcome; master checks the range */
};

union stats_msg_any {
	struct stats_delivery delivery;
};

extern const struct ipc_channel stats_channel;
#define STATS_MSG(type) (ipc_channel_find(&stats_channel, (type)))

/*
 * The counter name of an outcome ("deliveries_stored"), or NULL for a value
 * outside the enum (a report master must refuse).
 */
const char *stats_delivery_outcome_name(uint32_t outcome);

#endif
