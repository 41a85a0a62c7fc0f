/* SPDX-License-Identifier: MIT */
/*
 * 02-write-flush: writes a message at an offset of an export with a
 * one-sided RDMA WRITE, then makes it durable: once sealmr_flush returns 0
 * the bytes are on the file (on pmem, or msync'ed on the page cache), even
 * if the daemon or the machine stops right after.
 *
 *   write-flush HOST[:PORT] EXPORT OFFSET MESSAGE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sealmr/sealmr.h>

int main(int argc, char **argv)
{
	struct sealmr_conn *conn;
	struct sealmr_grant *grant = NULL;
	uint64_t off;
	size_t len;
	char *port;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST[:PORT] EXPORT OFFSET MESSAGE\n", argv[0]);
		return 1;
	}
	off = strtoull(argv[3], NULL, 0);
	len = strlen(argv[4]);
	/* "HOST:PORT" or just "HOST" (port 7471) */
	port = strrchr(argv[1], ':');
	if (port)
		*port++ = '\0';
	rc = sealmr_connect(argv[1], port ? (uint16_t)atoi(port) : SEALMR_DEFAULT_PORT, NULL, &conn);
	if (rc) {
		fprintf(stderr, "%s\n", sealmr_errmsg(NULL));
		return 2;
	}
	/* The grant covers exactly the bytes written; offsets below are
	 * relative to it. */
	rc = sealmr_open(conn, argv[2], off, len, SEALMR_WRITE, &grant);
	if (rc == 0)
		rc = sealmr_write(grant, 0, argv[4], len);
	if (rc == 0)
		rc = sealmr_flush(grant, 0, len);
	if (rc == 0)
		rc = sealmr_close(&grant);
	if (rc)
		fprintf(stderr, "%s\n", sealmr_errmsg(conn));
	else
		printf("%zu bytes at %llu of '%s' are durable\n", len, (unsigned long long)off,
		       argv[2]);
	sealmr_close(&grant);
	sealmr_disconnect(&conn);
	return rc ? 3 : 0;
}
