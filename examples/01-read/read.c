/* SPDX-License-Identifier: MIT */
/*
 * 01-read: the smallest libsealmr program. Connects to sealmrd, opens a
 * read grant on the first LENGTH bytes of an export, reads them with one
 * blocking call and writes them to stdout.
 *
 *   read HOST[:PORT] EXPORT [LENGTH]      (LENGTH defaults to 4096)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sealmr/sealmr.h>

int main(int argc, char **argv)
{
	struct sealmr_conn *conn;
	struct sealmr_grant *grant = NULL;
	size_t len = argc > 3 ? strtoull(argv[3], NULL, 0) : 4096;
	char *buf;
	char *port;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s HOST[:PORT] EXPORT [LENGTH]\n", argv[0]);
		return 1;
	}
	buf = malloc(len);
	if (!buf)
		return 1;
	/* NULL options: 10 s timeout, depth 64, no reconnect. */
	/* "HOST:PORT" or just "HOST" (port 7471) */
	port = strrchr(argv[1], ':');
	if (port)
		*port++ = '\0';
	rc = sealmr_connect(argv[1], port ? (uint16_t)atoi(port) : SEALMR_DEFAULT_PORT, NULL, &conn);
	if (rc) {
		/* Before there is a connection, the message is the thread's. */
		fprintf(stderr, "%s\n", sealmr_errmsg(NULL));
		return 2;
	}
	rc = sealmr_open(conn, argv[2], 0, len, SEALMR_READ, &grant);
	if (rc == 0) {
		rc = sealmr_read(grant, 0, buf, len);
		if (rc == 0)
			fwrite(buf, 1, len, stdout);
	}
	if (rc)
		fprintf(stderr, "%s\n", sealmr_errmsg(conn));
	sealmr_close(&grant);
	sealmr_disconnect(&conn);
	free(buf);
	return rc ? 3 : 0;
}
