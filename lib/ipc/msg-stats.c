/*
 * Field table of the roost-lda -> master delivery reports (see
 * msg-stats.h).
 */
#include "msg-stats.h"

#define S struct stats_delivery
static const struct ipc_field delivery_fields[] = {IPC_U32(S, outcome)};
#undef S

static const struct ipc_msg_def stats_msgs[] = {
	IPC_MSG(STATS_DELIVERY, struct stats_delivery, delivery_fields, 0),
};

const struct ipc_channel stats_channel = {"lda-stats", stats_msgs, N_ELEMENTS(stats_msgs)};

const char *stats_delivery_outcome_name(uint32_t outcome)
{
	static const char *const names[STATS_DELIVERY_OUTCOME_COUNT] = {
		[STATS_DELIVERY_STORED] = "deliveries_stored",
		[STATS_DELIVERY_TEMPFAIL] = "deliveries_tempfail",
		[STATS_DELIVERY_REJECTED] = "deliveries_rejected",
		[STATS_DELIVERY_DISCARDED] = "deliveries_discarded",
	};

	return outcome < STATS_DELIVERY_OUTCOME_COUNT ? names[outcome] : NULL;
}
