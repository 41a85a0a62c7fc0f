/* SPDX-License-Identifier: MIT */
/*
 * flushwriter: a stream of durable writes through libsealmr, for the tests
 * that kill the daemon under it.
 *
 *   flushwriter HOST:PORT EXPORT OFFSET LENGTH SEED [native|commit|auto]
 *       opens a read/write grant on [OFFSET, +LENGTH) of EXPORT, then writes
 *       chunks of random bytes (random lengths, 1 byte to 128 KiB, one after
 *       the other from OFFSET) and flushes each by the method (default
 *       auto: sealmr_flush_with's 0). Only once the flush has
 *       returned 0 it prints "FILE_OFFSET LENGTH SHA256" for the chunk (file
 *       offset: the export's offset plus the export's own offset in the
 *       file, which the tests keep at 0). Writes each byte at most once: when
 *       the range is full it waits to be killed. Exits 3 on the first
 *       failure, saying what it was.
 *   flushwriter try HOST:PORT EXPORT ro|rw METHOD OFF LEN
 *       opens a grant on the first MiB of EXPORT, writes LEN bytes of 0xa5
 *       at OFF where the grant and range allow it (rw, inside), and flushes
 *       OFF..+LEN by METHOD; prints "flush: 0" or "flush: -ERRNO message"
 *       and exits 0 or 1.
 *   flushwriter verify FILE < LINES
 *       reads each "OFFSET LENGTH SHA256" range straight from FILE and
 *       prints "N ranges, M bad"; exits 1 if any is bad.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
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

static int fw_method(const char *name, unsigned *out)
{
	if (!strcmp(name, "native"))
		*out = SEALMR_FLUSH_RDMA_FLUSH;
	else if (!strcmp(name, "commit"))
		*out = SEALMR_FLUSH_COMMIT;
	else if (!strcmp(name, "auto"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int fw_connect(const char *target, struct sealmr_conn **conn)
{
	struct sealmr_conn_opts opts = { .timeout_ms = 30000 }; /* a loaded test VM */
	char host[256], *port;

	snprintf(host, sizeof(host), "%s", target);
	port = strrchr(host, ':');
	if (port)
		*port++ = '\0';
	if (sealmr_connect(host, port ? (uint16_t)atoi(port) : 0, &opts, conn)) {
		fprintf(stderr, "flushwriter: %s\n", sealmr_errmsg(NULL));
		return -1;
	}
	return 0;
}

static int fw_write(const char *target, const char *export, uint64_t off, uint64_t len,
		    uint64_t seed, unsigned method)
{
	char hex[SHA256_HEX_LEN];
	struct sealmr_conn *conn = NULL;
	struct sealmr_grant *g;
	unsigned char *buf = malloc(FW_CHUNK_MAX);
	uint64_t cur = 0, rnd = seed * 2654435761u + 1;
	int rc;

	if (!buf)
		return 3;
	if (fw_connect(target, &conn))
		goto err_free;
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
			rc = sealmr_flush_with(g, cur, n, method);
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

static int fw_try(char **argv)
{
	static unsigned char buf[1 << 20];
	uint64_t off = strtoull(argv[5], NULL, 0), len = strtoull(argv[6], NULL, 0);
	bool rw = !strcmp(argv[3], "rw");
	struct sealmr_conn *conn = NULL;
	struct sealmr_grant *g;
	unsigned method;
	int rc;

	if (fw_method(argv[4], &method))
		return 2;
	if (fw_connect(argv[1], &conn))
		return 3;
	rc = sealmr_open(conn, argv[2], 0, sizeof(buf), rw ? SEALMR_WRITE : SEALMR_READ, &g);
	if (rc) {
		fprintf(stderr, "flushwriter: open: %s\n", sealmr_errmsg(conn));
		sealmr_disconnect(&conn);
		return 3;
	}
	memset(buf, 0xa5, sizeof(buf));
	if (rw && off <= sizeof(buf) && len <= sizeof(buf) - off)
		rc = sealmr_write(g, off, buf, len);
	if (rc == 0)
		rc = sealmr_flush_with(g, off, len, method);
	if (rc)
		printf("flush: %d %s\n", rc, sealmr_errmsg(conn));
	else
		printf("flush: 0\n");
	sealmr_disconnect(&conn);
	return rc ? 1 : 0;
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
	unsigned method = 0;

	if (argc == 3 && !strcmp(argv[1], "verify"))
		return fw_verify(argv[2]);
	if (argc == 8 && !strcmp(argv[1], "try"))
		return fw_try(argv + 1);
	if ((argc != 6 && argc != 7) || (argc == 7 && fw_method(argv[6], &method))) {
		fprintf(stderr, "usage: flushwriter HOST:PORT EXPORT OFFSET LENGTH SEED "
				"[native|commit|auto]\n"
				"       flushwriter try HOST:PORT EXPORT ro|rw METHOD OFF LEN\n"
				"       flushwriter verify FILE < LINES\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return fw_write(argv[1], argv[2], strtoull(argv[3], NULL, 0),
			strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0), method);
}
