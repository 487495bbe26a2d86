/*
 * SHA-256 (FIPS 180-4) for roost-lda's duplicate database, which stores
 * digests of Sieve's ids instead of the ids themselves (message ids,
 * senders). Pure computation on bytes; runs in the sandboxed delivery.
 */
#ifndef ROOST_LDA_SHA256_H
#define ROOST_LDA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[64];
	size_t block_len;
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest; ctx must be initialised again before reuse. */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);
/* The digest of one buffer. */
void sha256_digest(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);

#endif
