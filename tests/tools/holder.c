/* SPDX-License-Identifier: MIT */
/*
 * holder: one libsealmr connection that lives across the events a test
 * provokes (a daemon restart, a link going down), driven line by line from
 * stdin so that the test decides when each operation runs:
 *
 *   open EXPORT OFFSET LENGTH     a read-write grant (one at a time)
 *   write OFFSET LENGTH SEED      bytes made from SEED, then a flush
 *   read OFFSET LENGTH SEED       checks the bytes made from SEED
 *   quit
 *
 *   holder [--reconnect] HOST:PORT
 *
 * Each command answers one line: "ok MS" or "err ERRNAME MS MESSAGE", MS
 * being how long it took. The reconnect and revoke callbacks print
 * "reconnected REOPENED LOST" and "revoked REASON TEXT" lines.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sealmr/sealmr.h>

static void on_revoke(struct sealmr_grant *grant, unsigned reason, const char *text, void *arg)
{
	(void)grant;
	(void)arg;
	printf("revoked %u %s\n", reason, text);
}

static void on_reconnect(struct sealmr_conn *conn, unsigned reopened, unsigned lost, void *arg)
{
	(void)conn;
	(void)arg;
	printf("reconnected %u %u\n", reopened, lost);
}

static void fill(char *p, size_t len, unsigned seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)x;
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int run(struct sealmr_conn *conn, struct sealmr_grant **grant, const char *line)
{
	char cmd[16], name[SEALMR_NAME_MAX];
	unsigned long long off, len;
	unsigned seed;
	char *want, *got;
	int rc;

	if (sscanf(line, "open %63s %llu %llu", name, &off, &len) == 3) {
		sealmr_close(grant);
		return sealmr_open(conn, name, off, len, SEALMR_READ | SEALMR_WRITE, grant);
	}
	if (sscanf(line, "%15s %llu %llu %u", cmd, &off, &len, &seed) != 4 ||
	    (strcmp(cmd, "write") && strcmp(cmd, "read")))
		return -EINVAL;
	if (!*grant)
		return -EBADF;
	want = malloc(len);
	got = malloc(len);
	if (!want || !got) {
		rc = -ENOMEM;
		goto out_free;
	}
	fill(want, len, seed);
	if (!strcmp(cmd, "write")) {
		rc = sealmr_write(*grant, off, want, len);
		if (!rc)
			rc = sealmr_flush(*grant, off, len);
	} else {
		rc = sealmr_read(*grant, off, got, len);
		if (!rc && memcmp(want, got, len))
			rc = -EILSEQ;
	}
out_free:
	free(want);
	free(got);
	return rc;
}

int main(int argc, char **argv)
{
	struct sealmr_conn_opts opts = { 0 };
	struct sealmr_conn *conn;
	struct sealmr_grant *grant = NULL;
	char line[256], *host, *port;
	int rc;

	if (argc == 3 && !strcmp(argv[1], "--reconnect"))
		opts.reconnect = 1;
	else if (argc != 2) {
		fprintf(stderr, "usage: holder [--reconnect] HOST:PORT < COMMANDS\n");
		return 1;
	}
	host = argv[argc - 1];
	port = strrchr(host, ':');
	if (!port) {
		fprintf(stderr, "holder: %s: want HOST:PORT\n", host);
		return 1;
	}
	*port++ = '\0';
	rc = sealmr_connect(host, (uint16_t)atoi(port), &opts, &conn);
	if (rc) {
		fprintf(stderr, "holder: %s\n", sealmr_errmsg(NULL));
		return 2;
	}
	sealmr_set_revoke_cb(conn, on_revoke, NULL);
	sealmr_set_reconnect_cb(conn, on_reconnect, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4)) {
		struct timespec t0;

		line[strcspn(line, "\n")] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = run(conn, &grant, line);
		/* Callbacks due from the command run before its answer. */
		sealmr_process(conn);
		if (rc)
			printf("err %s %ld %s\n", strerrorname_np(-rc), ms_since(&t0),
			       rc == -EINVAL || rc == -EBADF || rc == -EILSEQ ? line
									: sealmr_errmsg(conn));
		else
			printf("ok %ld\n", ms_since(&t0));
	}
	sealmr_close(&grant);
	sealmr_disconnect(&conn);
	return 0;
}
