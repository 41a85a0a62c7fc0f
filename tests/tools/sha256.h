/* SPDX-License-Identifier: MIT */
/*
 * sha256: FIPS 180-4 SHA-256 for the test tools, so that what they print
 * compares with sha256sum(1) run on the file.
 */
#ifndef SEALMR_TESTS_SHA256_H
#define SEALMR_TESTS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_LEN]);
/* One call: the hex digest of data. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN]);

#endif
