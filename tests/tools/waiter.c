/* SPDX-License-Identifier: MIT */
/*
 * waiter: the three ways of waiting for async completions, each checked by
 * what it must deliver, for client-wait.t.
 *
 *   waiter HOST:PORT EXPORT fd|wait|spin COUNT
 *       writes COUNT 4 KiB pages of a pattern with sealmr_write_async, one
 *       at a time, then reads them back with sealmr_read_async and compares
 *       (over a grant of at most WT_PAGES pages, wrapping around).
 *       fd: sleeps in poll(2) on sealmr_fd() and reaps with sealmr_poll(),
 *       as an event loop would; a poll that sleeps 10 s without a completion
 *       arriving is a lost wake-up and fails. wait: sealmr_wait(). spin: a
 *       busy_poll connection spinning in sealmr_poll().
 *       Prints "ok COUNT" and exits 0, or says what failed and exits 3.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sealmr/sealmr.h>

#define WT_PAGE 4096u
#define WT_WAKE_MS 10000
#define WT_PAGES 256u

enum wt_mode { WT_FD, WT_WAIT, WT_SPIN };

/* One completion, however the mode waits for it; 0 or -errno. */
static int wt_reap(struct sealmr_conn *conn, enum wt_mode mode)
{
	struct sealmr_completion comp;
	int n;

	for (;;) {
		if (mode == WT_WAIT)
			n = sealmr_wait(conn, &comp, 1, WT_WAKE_MS);
		else
			n = sealmr_poll(conn, &comp, 1);
		if (n < 0)
			return n;
		if (n == 1)
			return comp.status;
		if (mode == WT_WAIT) {
			fprintf(stderr, "waiter: sealmr_wait: nothing in %d ms\n", WT_WAKE_MS);
			return -ETIMEDOUT;
		}
		if (mode == WT_FD) {
			struct pollfd pfd = { .fd = sealmr_fd(conn), .events = POLLIN };

			if (poll(&pfd, 1, WT_WAKE_MS) == 0) {
				fprintf(stderr, "waiter: sealmr_fd() stayed quiet for %d ms with an "
					"operation outstanding: a lost wake-up\n", WT_WAKE_MS);
				return -ETIMEDOUT;
			}
		}
	}
}

static int wt_run(struct sealmr_conn *conn, const char *export, enum wt_mode mode, unsigned count)
{
	unsigned char *mem = aligned_alloc(WT_PAGE, 2 * WT_PAGE);
	struct sealmr_grant *g = NULL;
	struct sealmr_buf *buf = NULL;
	unsigned pages = count < WT_PAGES ? count : WT_PAGES;
	int rc;

	if (!mem)
		return -ENOMEM;
	rc = sealmr_open(conn, export, 0, (uint64_t)pages * WT_PAGE, SEALMR_READ | SEALMR_WRITE,
			 &g);
	if (!rc)
		rc = sealmr_buf_reg(conn, mem, 2 * WT_PAGE, &buf);
	for (unsigned i = 0; !rc && i < 2 * count; i++) {
		unsigned page = i % pages;
		bool write = i < count;

		memset(mem, (int)(page * 7 + 1), WT_PAGE);
		rc = write ? sealmr_write_async(g, (uint64_t)page * WT_PAGE, buf, 0, WT_PAGE, i)
			   : sealmr_read_async(g, (uint64_t)page * WT_PAGE, buf, WT_PAGE, WT_PAGE, i);
		if (!rc)
			rc = wt_reap(conn, mode);
		if (!rc && !write && memcmp(mem, mem + WT_PAGE, WT_PAGE)) {
			fprintf(stderr, "waiter: page %u read back differs from what was written\n",
				page);
			rc = -EIO;
		}
	}
	if (rc)
		fprintf(stderr, "waiter: %s\n", sealmr_errmsg(conn));
	sealmr_buf_dereg(&buf);
	if (g)
		sealmr_close(&g);
	free(mem);
	return rc;
}

int main(int argc, char **argv)
{
	struct sealmr_conn_opts opts = { .timeout_ms = 30000 }; /* a loaded test VM */
	struct sealmr_conn *conn = NULL;
	char host[256], *port;
	enum wt_mode mode;
	unsigned count;
	int rc;

	if (argc != 5 || (strcmp(argv[3], "fd") && strcmp(argv[3], "wait") &&
			  strcmp(argv[3], "spin")) || !(count = (unsigned)atoi(argv[4]))) {
		fprintf(stderr, "usage: waiter HOST:PORT EXPORT fd|wait|spin COUNT\n");
		return 2;
	}
	mode = !strcmp(argv[3], "fd") ? WT_FD : !strcmp(argv[3], "wait") ? WT_WAIT : WT_SPIN;
	opts.busy_poll = mode == WT_SPIN;
	snprintf(host, sizeof(host), "%s", argv[1]);
	port = strrchr(host, ':');
	if (port)
		*port++ = '\0';
	rc = sealmr_connect(host, port ? (uint16_t)atoi(port) : 0, &opts, &conn);
	if (rc) {
		fprintf(stderr, "waiter: connect %s: %s\n", argv[1], strerror(-rc));
		return 3;
	}
	rc = wt_run(conn, argv[2], mode, count);
	sealmr_disconnect(&conn);
	if (rc)
		return 3;
	printf("ok %u\n", count);
	return 0;
}
