/* SPDX-License-Identifier: MIT */
/*
 * pagemix: a writer that shares every page it writes with another writer,
 * for client-subpage.t. Each round it writes LEN bytes at OFF of every one
 * of PAGES pages of its grant (sync: sealmr_write; async: write_async from
 * a registered buffer), reads them back the same way and compares, and at
 * the end flushes the whole range. Another pagemix at another OFF writes
 * the other bytes of the same pages at the same time: neither may lose a
 * byte of the other's, nor read one misplaced. OFF + LEN past a page makes
 * each "page" a block of whole pages (a transfer that starts mid-page and
 * runs on: its head goes through the daemon, the rest one-sided).
 *
 *   pagemix HOST:PORT EXPORT sync|async OFF LEN PAGES ROUNDS SEED
 *       prints "ok ROUNDS" or what failed, and exits 0 or 3
 *   pagemix verify FILE PAGES ROUNDS OFF:LEN:SEED...
 *       checks the file after the daemon stopped: each writer's bytes are
 *       its last round's, every other byte of the pages is 0; prints
 *       "BYTES bytes wrong" and exits 0 when BYTES is 0, else 3
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sealmr/sealmr.h>

#define PM_PAGE 4096u

/* The block each writer's range repeats in: whole pages. */
static size_t pm_stride(unsigned off, unsigned len)
{
	return ((size_t)off + len + PM_PAGE - 1) / PM_PAGE * PM_PAGE;
}

static unsigned char pm_byte(unsigned seed, unsigned round, unsigned page, unsigned i)
{
	/* Never 0, so that an untouched byte cannot pass for a written one. */
	return (unsigned char)(1 + (seed * 131u + round * 31u + page * 7u + i) % 255u);
}

static void pm_fill(unsigned char *p, unsigned seed, unsigned round, unsigned page, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = pm_byte(seed, round, page, i);
}

static int pm_verify(int argc, char **argv)
{
	unsigned pages = (unsigned)strtoul(argv[3], NULL, 0), rounds;
	unsigned char *file, *want;
	size_t size, wrong = 0, stride = PM_PAGE;
	int fd;

	rounds = (unsigned)strtoul(argv[4], NULL, 0);
	for (int a = 5; a < argc; a++) {
		unsigned off, len, seed;

		if (sscanf(argv[a], "%u:%u:%u", &off, &len, &seed) == 3 && pm_stride(off, len) > stride)
			stride = pm_stride(off, len);
	}
	size = (size_t)pages * stride;
	file = calloc(1, size);
	want = calloc(1, size);
	fd = open(argv[2], O_RDONLY);
	if (!file || !want || fd < 0 || pread(fd, file, size, 0) != (ssize_t)size) {
		fprintf(stderr, "pagemix: reading %zu bytes of %s: %s\n", size, argv[2],
			strerror(errno));
		return 3;
	}
	close(fd);
	for (int a = 5; a < argc; a++) {
		unsigned off, len, seed;

		if (sscanf(argv[a], "%u:%u:%u", &off, &len, &seed) != 3 || !len) {
			fprintf(stderr, "pagemix: '%s': want OFF:LEN:SEED\n", argv[a]);
			return 2;
		}
		for (unsigned p = 0; p < pages; p++)
			pm_fill(want + (size_t)p * stride + off, seed, rounds - 1, p, len);
	}
	for (size_t i = 0; i < size; i++)
		wrong += file[i] != want[i];
	printf("%zu bytes wrong\n", wrong);
	free(file);
	free(want);
	return wrong ? 3 : 0;
}

struct pm {
	struct sealmr_conn *conn;
	struct sealmr_grant *grant;
	struct sealmr_buf *buf;
	unsigned char *mem; /* PAGES * LEN: what each page gets, then what came back */
	unsigned off, len, pages;
	size_t stride;
	int async;
};

static int pm_fail(struct pm *m, const char *what, int rc)
{
	printf("%s: %s (%s)\n", what, strerror(-rc), sealmr_errmsg(m->conn));
	return 3;
}

static int pm_wait_all(struct pm *m, unsigned n)
{
	struct sealmr_completion cq[16];

	while (n) {
		int got = sealmr_wait(m->conn, cq, n < 16 ? (int)n : 16, 10000);

		if (got <= 0)
			return got ? got : -ETIMEDOUT;
		for (int i = 0; i < got; i++)
			if (cq[i].status)
				return cq[i].status;
		n -= (unsigned)got;
	}
	return 0;
}

/* Every page's bytes out (write) or in (read), sync or async. */
static int pm_pass(struct pm *m, int write)
{
	int rc = 0;

	for (unsigned p = 0; p < m->pages && !rc; p++) {
		uint64_t at = (uint64_t)p * m->stride + m->off;
		unsigned char *b = m->mem + (size_t)p * m->len;

		if (!m->async)
			rc = write ? sealmr_write(m->grant, at, b, m->len)
				   : sealmr_read(m->grant, at, b, m->len);
		else
			rc = write ? sealmr_write_async(m->grant, at, m->buf, (size_t)p * m->len,
							m->len, p)
				   : sealmr_read_async(m->grant, at, m->buf, (size_t)p * m->len,
						       m->len, p);
		/* Keep at most 8 in flight. */
		if (!rc && m->async && (p % 8 == 7 || p == m->pages - 1))
			rc = pm_wait_all(m, p % 8 + 1);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct sealmr_conn_opts opts = { .depth = 16 };
	struct pm m = { 0 };
	unsigned rounds, seed;
	char host[256], *colon;
	int rc;

	if (argc >= 6 && !strcmp(argv[1], "verify"))
		return pm_verify(argc, argv);
	if (argc != 9 || (strcmp(argv[3], "sync") && strcmp(argv[3], "async"))) {
		fprintf(stderr, "usage: pagemix HOST:PORT EXPORT sync|async OFF LEN PAGES ROUNDS SEED\n"
				"       pagemix verify FILE PAGES ROUNDS OFF:LEN:SEED...\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", argv[1]);
	colon = strrchr(host, ':');
	if (!colon)
		return 2;
	*colon = '\0';
	m.async = !strcmp(argv[3], "async");
	m.off = (unsigned)strtoul(argv[4], NULL, 0);
	m.len = (unsigned)strtoul(argv[5], NULL, 0);
	m.pages = (unsigned)strtoul(argv[6], NULL, 0);
	rounds = (unsigned)strtoul(argv[7], NULL, 0);
	seed = (unsigned)strtoul(argv[8], NULL, 0);
	if (!m.len || !m.pages || !rounds) {
		fprintf(stderr, "pagemix: LEN, PAGES and ROUNDS must be above 0\n");
		return 2;
	}
	m.stride = pm_stride(m.off, m.len);
	m.mem = malloc((size_t)m.pages * m.len);
	if (!m.mem)
		return 3;
	rc = sealmr_connect(host, (uint16_t)strtoul(colon + 1, NULL, 0), &opts, &m.conn);
	if (rc) {
		printf("connect: %s\n", strerror(-rc));
		return 3;
	}
	rc = sealmr_open(m.conn, argv[2], 0, (uint64_t)m.pages * m.stride,
			 SEALMR_READ | SEALMR_WRITE, &m.grant);
	if (rc)
		return pm_fail(&m, "open", rc);
	if (m.async && (rc = sealmr_buf_reg(m.conn, m.mem, (size_t)m.pages * m.len, &m.buf)))
		return pm_fail(&m, "buf_reg", rc);
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned p = 0; p < m.pages; p++)
			pm_fill(m.mem + (size_t)p * m.len, seed, r, p, m.len);
		rc = pm_pass(&m, 1);
		if (rc)
			return pm_fail(&m, "write", rc);
		memset(m.mem, 0, (size_t)m.pages * m.len);
		rc = pm_pass(&m, 0);
		if (rc)
			return pm_fail(&m, "read", rc);
		for (unsigned p = 0; p < m.pages; p++)
			for (unsigned i = 0; i < m.len; i++)
				if (m.mem[(size_t)p * m.len + i] != pm_byte(seed, r, p, i)) {
					printf("round %u page %u byte %u: read back %u, wrote %u\n", r,
					       p, m.off + i, m.mem[(size_t)p * m.len + i],
					       pm_byte(seed, r, p, i));
					return 3;
				}
	}
	rc = sealmr_flush(m.grant, 0, (uint64_t)m.pages * m.stride);
	if (rc)
		return pm_fail(&m, "flush", rc);
	printf("ok %u\n", rounds);
	sealmr_buf_dereg(&m.buf);
	sealmr_close(&m.grant);
	sealmr_disconnect(&m.conn);
	free(m.mem);
	return 0;
}
