/* SPDX-License-Identifier: MIT */
/*
 * flushwriter: a stream of durable writes through libsealmr, for the tests
 * that kill the daemon under it.
 *
 *   flushwriter HOST:PORT EXPORT OFFSET LENGTH SEED
 *       opens a read/write grant on [OFFSET, +LENGTH) of EXPORT, then writes
 *       chunks of random bytes (random lengths, 1 byte to 128 KiB, one after
 *       the other from OFFSET) and flushes each. Only once sealmr_flush has
 *       returned 0 it prints "FILE_OFFSET LENGTH SHA256" for the chunk (file
 *       offset: the export's offset plus the export's own offset in the
 *       file, which the tests keep at 0). Writes each byte at most once: when
 *       the range is full it waits to be killed. Exits 3 on the first
 *       failure, saying what it was.
 *   flushwriter verify FILE < LINES
 *       reads each "OFFSET LENGTH SHA256" range straight from FILE and
 *       prints "N ranges, M bad"; exits 1 if any is bad.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sealmr/sealmr.h>

#include "sha256.h"

#define FW_CHUNK_MAX (128u << 10)

static uint64_t fw_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int fw_write(const char *target, const char *export, uint64_t off, uint64_t len,
		    uint64_t seed)
{
	struct sealmr_conn_opts opts = { .timeout_ms = 30000 }; /* a loaded test VM */
	char host[256], hex[SHA256_HEX_LEN], *port;
	struct sealmr_conn *conn = NULL;
	struct sealmr_grant *g;
	unsigned char *buf = malloc(FW_CHUNK_MAX);
	uint64_t cur = 0, rnd = seed * 2654435761u + 1;
	int rc;

	snprintf(host, sizeof(host), "%s", target);
	port = strrchr(host, ':');
	if (port)
		*port++ = '\0';
	if (!buf)
		return 3;
	rc = sealmr_connect(host, port ? (uint16_t)atoi(port) : 0, &opts, &conn);
	if (rc) {
		fprintf(stderr, "flushwriter: %s\n", sealmr_errmsg(NULL));
		goto err_free;
	}
	rc = sealmr_open(conn, export, off, len, SEALMR_WRITE, &g);
	if (rc) {
		fprintf(stderr, "flushwriter: open: %s\n", sealmr_errmsg(conn));
		goto err_disconnect;
	}
	for (;;) {
		size_t n = (size_t)(fw_rand(&rnd) % FW_CHUNK_MAX) + 1;

		if (cur + n > len)
			break;
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = fw_rand(&rnd);

			memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
		}
		rc = sealmr_write(g, cur, buf, n);
		if (rc == 0)
			rc = sealmr_flush(g, cur, n);
		if (rc) {
			fprintf(stderr, "flushwriter: %s [%" PRIu64 ", +%zu): %s\n", export,
				off + cur, n, sealmr_errmsg(conn));
			goto err_disconnect;
		}
		sha256_hex(buf, n, hex);
		printf("%" PRIu64 " %zu %s\n", off + cur, n, hex);
		fflush(stdout);
		cur += n;
	}
	fprintf(stderr, "flushwriter: %s [%" PRIu64 ", +%" PRIu64 ") full after %" PRIu64
		" bytes; waiting\n", export, off, len, cur);
	for (;;)
		pause();

err_disconnect:
	sealmr_disconnect(&conn); /* and the grant */
err_free:
	free(buf);
	return 3;
}

static int fw_verify(const char *file)
{
	unsigned long long off;
	unsigned long n, ranges = 0, bad = 0;
	char want[SHA256_HEX_LEN], got[SHA256_HEX_LEN];
	unsigned char *buf = malloc(FW_CHUNK_MAX);
	int fd = open(file, O_RDONLY);

	if (fd < 0 || !buf) {
		fprintf(stderr, "flushwriter: %s: %s\n", file, strerror(errno));
		return 2;
	}
	while (scanf("%llu %lu %64s", &off, &n, want) == 3) {
		ranges++;
		if (n > FW_CHUNK_MAX || pread(fd, buf, n, (off_t)off) != (ssize_t)n) {
			printf("bad %llu %lu: cannot read it\n", off, n);
			bad++;
			continue;
		}
		sha256_hex(buf, n, got);
		if (strcmp(got, want)) {
			printf("bad %llu %lu: sha256 %s, flushed %s\n", off, n, got, want);
			bad++;
		}
	}
	printf("%lu ranges, %lu bad\n", ranges, bad);
	close(fd);
	free(buf);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "verify"))
		return fw_verify(argv[2]);
	if (argc != 6) {
		fprintf(stderr, "usage: flushwriter HOST:PORT EXPORT OFFSET LENGTH SEED\n"
				"       flushwriter verify FILE < LINES\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return fw_write(argv[1], argv[2], strtoull(argv[3], NULL, 0),
			strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
}
