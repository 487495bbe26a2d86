/*
 * libFuzzer harness for the decoder of the roost-lda -> master delivery
 * reports (lib/ipc/msg-stats.h): framing checks in ipc_recv(), the
 * table-driven decoder, and the outcome range check master applies.
 */
#include <stddef.h>
#include <stdint.h>

#include "ipc-fuzz.h"
#include "ipc/msg-stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats_delivery report;
	const char *error;

	fuzz_ipc_channel(&stats_channel, data, size);
	if (ipc_decode(&stats_channel.msgs[0], data, size, &report, &error)) {
		const char *name = stats_delivery_outcome_name(report.outcome);

		if ((name == NULL) != (report.outcome >= STATS_DELIVERY_OUTCOME_COUNT))
			abort();
	}
	return 0;
}
