/* SPDX-License-Identifier: MIT */
/*
 * Built by tests/install/install.sh against the installed header and
 * library only: links, runs, and finds the messages where the manual says.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sealmr/sealmr.h>

int main(void)
{
	struct sealmr_conn *conn = NULL;
	int rc;

	if (strcmp(sealmr_errmsg(NULL), "no error")) {
		fprintf(stderr, "sealmr_errmsg(NULL) before any failure: '%s'\n",
			sealmr_errmsg(NULL));
		return 1;
	}
	rc = sealmr_connect("", SEALMR_DEFAULT_PORT, NULL, &conn);
	if (rc != -EINVAL || conn) {
		fprintf(stderr, "sealmr_connect(\"\"): %d, want %d and no connection\n", rc, -EINVAL);
		return 1;
	}
	printf("sealmr_connect(\"\"): %s\n", sealmr_errmsg(NULL));
	sealmr_disconnect(&conn);
	sealmr_disconnect(NULL);
	return 0;
}
