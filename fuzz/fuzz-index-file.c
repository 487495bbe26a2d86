/*
 * libFuzzer harness for the roost.index reader: any bytes are either
 * rejected as corrupt or give a view whose every record, name and expunge
 * entry can be used without reading out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../storage/index-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct index_view view;
	struct mailbox_error err;
	uint8_t *copy;

	index_view_init(&view);
	if (index_file_parse(&view, data, size, &err)) {
		uint64_t sum = 0;

		for (size_t i = 0; i < view.count; i++) {
			const char *name = index_view_name(&view, &view.recs[i]);

			for (size_t j = 0; j < view.recs[i].name_len; j++)
				sum += (uint8_t)name[j];
			if (index_view_find(&view, view.recs[i].uid) != (ssize_t)i)
				abort();
		}
		for (size_t i = 0; i < view.expunge_count; i++)
			sum += view.expunges[i].uid;
		(void)sum;
	}
	index_view_deinit(&view);
	/* Checksums stop most random input early; also try with them fixed
	   up so the structural checks behind them get exercised. */
	if (size >= sizeof(struct index_header)) {
		struct index_header hdr;

		copy = malloc(size);
		memcpy(copy, data, size);
		memcpy(&hdr, copy, sizeof(hdr));
		memcpy(hdr.magic, INDEX_MAGIC, sizeof(hdr.magic));
		hdr.version = INDEX_VERSION;
		hdr.endian = INDEX_ENDIAN_MARKER;
		hdr.header_size = sizeof(hdr);
		hdr.record_size = sizeof(struct mail_record);
		hdr.body_crc = (uint32_t)crc32_z(0, copy + sizeof(hdr), size - sizeof(hdr));
		hdr.header_crc = 0;
		hdr.header_crc = (uint32_t)crc32(0, (const Bytef *)&hdr, sizeof(hdr));
		memcpy(copy, &hdr, sizeof(hdr));
		index_view_init(&view);
		if (index_file_parse(&view, copy, size, &err)) {
			for (size_t i = 0; i < view.count; i++) {
				const char *name = index_view_name(&view, &view.recs[i]);
				volatile char c = 0;

				if (view.recs[i].name_len > 0)
					c = name[view.recs[i].name_len - 1];
				(void)c;
			}
		}
		index_view_deinit(&view);
		free(copy);
	}
	return 0;
}
