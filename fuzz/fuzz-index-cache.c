/*
 * libFuzzer harness for the cache file reader: the input becomes a cache
 * file (with a valid header forced on it half the time) and every lookup
 * on it either fails or returns bytes inside what was read.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../storage/index-cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct index_cache_header hdr;
	struct index_cache *cache;
	struct mailbox_error err;
	uint8_t *copy = malloc(size + sizeof(hdr));
	size_t len = size;
	uint64_t id = 7;
	uint32_t uidvalidity = 1;
	int fd;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/roost-fuzz-cache.%d", (int)getpid());
	memcpy(copy, data, size);
	if (size >= sizeof(hdr) && memcmp(data, INDEX_CACHE_MAGIC, 8) == 0) {
		/* A real cache file: use its own id. */
		memcpy(&hdr, data, sizeof(hdr));
		id = hdr.file_id;
		uidvalidity = hdr.uidvalidity;
	} else if (size > 0 && (data[0] & 1) != 0) {
		memset(&hdr, 0, sizeof(hdr));
		memcpy(hdr.magic, INDEX_CACHE_MAGIC, sizeof(hdr.magic));
		hdr.version = INDEX_CACHE_VERSION;
		hdr.header_size = sizeof(hdr);
		hdr.file_id = 7;
		hdr.uidvalidity = 1;
		hdr.header_crc = (uint32_t)crc32(0, (const Bytef *)&hdr, sizeof(hdr));
		if (len < sizeof(hdr))
			len = sizeof(hdr);
		memcpy(copy, &hdr, sizeof(hdr));
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, copy, len) != (ssize_t)len)
		abort();
	close(fd);
	if (index_cache_open(path, id, uidvalidity, &cache, &err) == 1) {
		for (uint64_t off = 0; off < len && off < 4096; off += 8) {
			for (uint32_t uid = 0; uid < 6; uid++) {
				const uint8_t *v;
				size_t vlen;

				if (index_cache_lookup(cache, off, uid, (uint16_t)(off / 8 % 4), &v,
						       &vlen) &&
				    vlen > 0 && v[vlen - 1] == 0xff && v[0] == 0xfe)
					(void)v;
			}
		}
		index_cache_close(&cache);
	}
	unlink(path);
	free(copy);
	return 0;
}
