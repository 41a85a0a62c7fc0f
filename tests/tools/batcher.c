/* SPDX-License-Identifier: MIT */
/*
 * batcher: sealmr_batch as a user of a transfer list would call it.
 *
 *   batcher HOST:PORT EXPORT SEED
 *
 * Opens the first 8 MiB of EXPORT, writes BATCH_N transfers of one batch
 * (one in each 1/BATCH_N of the range, at a random offset and of a random
 * length: sub-page ones, ones that cross pages, and ones long enough to be
 * striped over the data QPs), flushes, reads them back in a second batch,
 * then tries two batches that must stop early: an entry with a bad op and
 * one past the grant.
 *
 * Prints, one per line: "write N ok N" (entries taken, completions with
 * status 0 and the full length, each user_ctx once), "read N ok N same N"
 * (likewise, and how many came back equal), "badop TAKEN ERRNAME" and
 * "range TAKEN ERRNAME" (the entries taken before the bad one and what
 * sealmr_errmsg says it was), "sha HEX" (what the 8 MiB must hold now:
 * the written bytes, zeros elsewhere). Exits 0 when it got that far.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sealmr/sealmr.h>

#include "sha256.h"

#define BATCH_RANGE (8u << 20)
#define BATCH_N 32
#define BATCH_WAIT_MS 10000

static uint64_t batch_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Waits for n completions: how many had status 0 and their full length,
 * each user_ctx (its entry's index) counted once. */
static int batch_reap(struct sealmr_conn *c, const struct sealmr_batch_entry *e, int n)
{
	struct sealmr_completion cpl[BATCH_N];
	unsigned char seen[BATCH_N] = { 0 };
	int got = 0, ok = 0;

	while (got < n) {
		int k = sealmr_wait(c, cpl, BATCH_N, BATCH_WAIT_MS);

		if (k <= 0) {
			fprintf(stderr, "batcher: %d of %d completions: %s\n", got, n,
				k ? sealmr_errmsg(c) : "timed out");
			return -1;
		}
		for (int i = 0; i < k; i++) {
			uint64_t x = cpl[i].user_ctx;

			if (x >= BATCH_N || seen[x]++) {
				fprintf(stderr, "batcher: completion for entry %llu twice or unknown\n",
					(unsigned long long)x);
				continue;
			}
			if (cpl[i].status == 0 && cpl[i].bytes == e[x].len)
				ok++;
			else
				fprintf(stderr, "batcher: entry %llu: status %d, %zu bytes\n",
					(unsigned long long)x, cpl[i].status, cpl[i].bytes);
		}
		got += k;
	}
	return ok;
}

static const char *batch_errname(const char *msg)
{
	return strstr(msg, "batch entry 1") ? "entry-1" : strstr(msg, "beyond") ? "beyond" : msg;
}

int main(int argc, char **argv)
{
	struct sealmr_batch_entry e[BATCH_N];
	struct sealmr_conn *c;
	struct sealmr_grant *g;
	struct sealmr_buf *wb, *rb;
	char *wmem, *rmem, *want, *port, hex[SHA256_HEX_LEN];
	uint64_t seed;
	int n, ok, same = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: batcher HOST:PORT EXPORT SEED\n");
		return 2;
	}
	seed = strtoull(argv[3], NULL, 0) | 1;
	port = strrchr(argv[1], ':');
	if (port)
		*port++ = '\0';
	wmem = aligned_alloc(4096, BATCH_RANGE);
	rmem = aligned_alloc(4096, BATCH_RANGE);
	want = calloc(1, BATCH_RANGE);
	if (!wmem || !rmem || !want)
		return 2;
	for (size_t i = 0; i < BATCH_RANGE; i++)
		wmem[i] = (char)batch_rand(&seed);
	if (sealmr_connect(argv[1], port ? (uint16_t)atoi(port) : 0, NULL, &c)) {
		fprintf(stderr, "batcher: %s\n", sealmr_errmsg(NULL));
		return 2;
	}
	if (sealmr_open(c, argv[2], 0, BATCH_RANGE, SEALMR_READ | SEALMR_WRITE, &g) ||
	    sealmr_buf_reg(c, wmem, BATCH_RANGE, &wb) || sealmr_buf_reg(c, rmem, BATCH_RANGE, &rb)) {
		fprintf(stderr, "batcher: %s\n", sealmr_errmsg(c));
		return 2;
	}
	for (unsigned i = 0; i < BATCH_N; i++) {
		size_t slot = BATCH_RANGE / BATCH_N, at = batch_rand(&seed) % (slot / 4);
		/* A third short, a third around a page, a third long enough to
		 * stripe (128 KiB and more), each inside its slot. */
		size_t len = i % 3 == 0 ? 1 + batch_rand(&seed) % 600 :
			     i % 3 == 1 ? 2000 + batch_rand(&seed) % 8000 :
					  (128u << 10) + batch_rand(&seed) % (slot / 4);

		e[i] = (struct sealmr_batch_entry){ .grant = g, .off = i * slot + at, .buf = wb,
						    .buf_off = i * slot + at, .len = len,
						    .op = SEALMR_BATCH_WRITE, .user_ctx = i };
		memcpy(want + e[i].off, wmem + e[i].off, len);
	}
	n = sealmr_batch(c, e, BATCH_N);
	ok = n == BATCH_N ? batch_reap(c, e, n) : -1;
	printf("write %d ok %d\n", n, ok);
	if (n < 0)
		fprintf(stderr, "batcher: %s\n", sealmr_errmsg(c));
	if (sealmr_flush(g, 0, BATCH_RANGE))
		fprintf(stderr, "batcher: flush: %s\n", sealmr_errmsg(c));
	for (unsigned i = 0; i < BATCH_N; i++) {
		e[i].op = SEALMR_BATCH_READ;
		e[i].buf = rb;
	}
	n = sealmr_batch(c, e, BATCH_N);
	ok = n == BATCH_N ? batch_reap(c, e, n) : -1;
	for (unsigned i = 0; i < BATCH_N; i++)
		same += !memcmp(rmem + e[i].buf_off, wmem + e[i].buf_off, e[i].len);
	printf("read %d ok %d same %d\n", n, ok, same);

	/* Stops at the bad entry: the first is taken and completes. */
	e[1].op = 7;
	n = sealmr_batch(c, e, 3);
	printf("badop %d %s\n", n, batch_errname(sealmr_errmsg(c)));
	if (n > 0)
		batch_reap(c, e, n);
	e[1].op = SEALMR_BATCH_READ;
	e[1].off = BATCH_RANGE - 100;
	e[1].len = 4096;
	n = sealmr_batch(c, e, 3);
	printf("range %d %s\n", n, batch_errname(sealmr_errmsg(c)));
	if (n > 0)
		batch_reap(c, e, n);

	sha256_hex(want, BATCH_RANGE, hex);
	printf("sha %s\n", hex);
	sealmr_buf_dereg(&wb);
	sealmr_buf_dereg(&rb);
	sealmr_close(&g);
	sealmr_disconnect(&c);
	free(wmem);
	free(rmem);
	free(want);
	return 0;
}
