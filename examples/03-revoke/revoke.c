/* SPDX-License-Identifier: MIT */
/*
 * 03-revoke: the daemon may take a grant back at any time (an admin, a
 * configuration reload, the file changing under its seal, a shutdown). This
 * program holds a grant, waits in poll() on sealmr_fd() as an event loop
 * would, lets sealmr_process() run the revoke callback, then shows that the
 * grant now fails fast.
 *
 *   revoke HOST[:PORT] EXPORT [SECONDS]    (waits up to SECONDS, default 60)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sealmr/sealmr.h>

static int revoked;

static void on_revoke(struct sealmr_grant *grant, unsigned reason, const char *text, void *arg)
{
	struct sealmr_grant_info info;

	(void)arg;
	sealmr_grant_get_info(grant, &info);
	printf("grant %llu revoked (reason %u): %s\n", (unsigned long long)info.id, reason, text);
	revoked = 1;
}

int main(int argc, char **argv)
{
	struct sealmr_conn *conn;
	struct sealmr_grant *grant;
	int secs = argc > 3 ? atoi(argv[3]) : 60;
	char byte;
	char *port;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s HOST[:PORT] EXPORT [SECONDS]\n", argv[0]);
		return 1;
	}
	/* "HOST:PORT" or just "HOST" (port 7471) */
	port = strrchr(argv[1], ':');
	if (port)
		*port++ = '\0';
	rc = sealmr_connect(argv[1], port ? (uint16_t)atoi(port) : SEALMR_DEFAULT_PORT, NULL, &conn);
	if (rc) {
		fprintf(stderr, "%s\n", sealmr_errmsg(NULL));
		return 2;
	}
	sealmr_set_revoke_cb(conn, on_revoke, NULL);
	rc = sealmr_open(conn, argv[2], 0, 4096, SEALMR_READ, &grant);
	if (rc) {
		fprintf(stderr, "%s\n", sealmr_errmsg(conn));
		sealmr_disconnect(&conn);
		return 3;
	}
	printf("holding a grant on '%s'; waiting for a revoke\n", argv[2]);
	fflush(stdout);
	/* Any event loop works the same: the fd is readable when something
	 * may be waiting; sealmr_process handles it without blocking. */
	for (int waited = 0; !revoked && waited < secs * 10; waited++) {
		struct pollfd pfd = { .fd = sealmr_fd(conn), .events = POLLIN };

		if (poll(&pfd, 1, 100) > 0 && sealmr_process(conn) < 0)
			break;
	}
	rc = sealmr_read(grant, 0, &byte, 1);
	printf("a read after the revoke: %s (%s)\n", strerror(-rc), sealmr_errmsg(conn));
	sealmr_close(&grant);
	sealmr_disconnect(&conn);
	return revoked ? 0 : 4;
}
