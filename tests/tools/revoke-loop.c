/* SPDX-License-Identifier: MIT */
/*
 * revoke-loop: does an admin revoke really stop the very next RDMA
 * operation? Each round connects, opens a grant, checks that a read works,
 * revokes the grant through the admin socket, then, as soon as the daemon
 * has answered, posts one more read, before the library has looked at
 * anything the daemon sent. That read must fail.
 *
 *   revoke-loop SOCKET HOST:PORT EXPORT ROUNDS
 *
 * The read is asynchronous: a blocking read would first take in a REVOKE
 * already waiting and refuse locally, and only the wire proves that the
 * rkey died before the admin reply was sent. A second connection holds a
 * grant on the export throughout, so that rounds do not re-seal the file.
 *
 * Prints "rounds N before_ok N failed N remote N local N reason_admin N":
 * reads that worked before the revoke; first reads after it that failed, of
 * which with a remote access error (the dead rkey on the wire) and refused
 * by the library (the REVOKE came first); revoke callbacks with reason
 * admin. Exits 0 once every round ran, 1 on a setup failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sealmr/sealmr.h>

#define LOOP_LEN 4096
#define LOOP_WAIT_MS 5000

struct loop {
	const char *socket, *host, *export;
	uint16_t port;
	unsigned before_ok, failed, remote, local, reason_admin;
	unsigned reason; /* of the last revoke callback */
};

static void loop_on_revoke(struct sealmr_grant *g, unsigned reason, const char *text, void *arg)
{
	struct loop *l = arg;

	l->reason = reason;
}

/* Sends one admin request line, reads the reply line: parsed, or NULL. */
static json_object *loop_admin(const char *path, json_object *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { LOOP_WAIT_MS / 1000, 0 };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char line[4096];
	size_t len = 0;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "revoke-loop: admin socket %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
		ssize_t n = recv(fd, line + len, sizeof(line) - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	line[len] = '\0';
	return json_tokener_parse(line);
}

/* {"cmd": "revoke", "grant": ID}; 0 when the daemon revoked one grant. */
static int loop_revoke(const struct loop *l, uint64_t id)
{
	json_object *req = json_object_new_object(), *rep;
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string("revoke"));
	json_object_object_add(req, "grant", json_object_new_uint64(id));
	rep = loop_admin(l->socket, req);
	json_object_put(req);
	rc = json_object_get_boolean(json_object_object_get(rep, "ok")) &&
	     json_object_get_int(json_object_object_get(rep, "revoked")) == 1 ? 0 : -EIO;
	if (rc)
		fprintf(stderr, "revoke-loop: revoke %llu: %s\n", (unsigned long long)id,
			rep ? json_object_to_json_string(rep) : "no reply");
	json_object_put(rep);
	return rc;
}

/* One async read of the grant: 0 or the status (-errno). */
static int loop_read(struct sealmr_conn *c, struct sealmr_grant *g, struct sealmr_buf *b)
{
	struct sealmr_completion cpl;
	int rc = sealmr_read_async(g, 0, b, 0, LOOP_LEN, 1);

	if (rc)
		return rc;
	rc = sealmr_wait(c, &cpl, 1, LOOP_WAIT_MS);
	if (rc < 0)
		return rc;
	return rc == 0 ? -ETIMEDOUT : cpl.status;
}

static int loop_round(struct loop *l, unsigned n, char *mem)
{
	struct sealmr_conn *c;
	struct sealmr_grant *g = NULL;
	struct sealmr_buf *b = NULL;
	struct sealmr_grant_info info;
	int rc;

	rc = sealmr_connect(l->host, l->port, NULL, &c);
	if (rc) {
		fprintf(stderr, "revoke-loop: round %u: %s\n", n, sealmr_errmsg(NULL));
		return rc;
	}
	sealmr_set_revoke_cb(c, loop_on_revoke, l);
	rc = sealmr_open(c, l->export, 0, LOOP_LEN, SEALMR_READ, &g);
	if (!rc)
		rc = sealmr_buf_reg(c, mem, LOOP_LEN, &b);
	if (rc) {
		fprintf(stderr, "revoke-loop: round %u: %s\n", n, sealmr_errmsg(c));
		goto out_disconnect;
	}
	rc = loop_read(c, g, b);
	if (rc == 0)
		l->before_ok++;
	else
		fprintf(stderr, "revoke-loop: round %u: read before the revoke: %s\n", n,
			sealmr_errmsg(c));
	sealmr_grant_get_info(g, &info);
	l->reason = 0;
	rc = loop_revoke(l, info.id);
	if (rc) {
		goto out_disconnect;
	}
	rc = loop_read(c, g, b);
	if (rc) {
		l->failed++;
		if (strstr(sealmr_errmsg(c), "remote access error"))
			l->remote++;
		else if (strstr(sealmr_errmsg(c), "revoked by the server"))
			l->local++;
		else
			fprintf(stderr, "revoke-loop: round %u: failed otherwise: %s\n", n,
				sealmr_errmsg(c));
	} else {
		fprintf(stderr, "revoke-loop: round %u: a read after the revoke worked\n", n);
	}
	sealmr_process(c);
	l->reason_admin += l->reason == SEALMR_REVOKE_ADMIN;
	rc = 0;
out_disconnect:
	sealmr_buf_dereg(&b);
	sealmr_close(&g);
	sealmr_disconnect(&c);
	return rc;
}

int main(int argc, char **argv)
{
	struct loop l = { 0 };
	struct sealmr_conn *keep_c;
	struct sealmr_grant *keep_g;
	unsigned rounds, n;
	char *mem, *port;

	if (argc != 5) {
		fprintf(stderr, "usage: revoke-loop SOCKET HOST:PORT EXPORT ROUNDS\n");
		return 1;
	}
	l.socket = argv[1];
	l.host = argv[2];
	l.export = argv[3];
	rounds = (unsigned)atoi(argv[4]);
	port = strrchr(argv[2], ':');
	if (port) {
		*port++ = '\0';
		l.port = (uint16_t)atoi(port);
	}
	mem = aligned_alloc(4096, LOOP_LEN);
	if (!mem)
		return 1;
	if (sealmr_connect(l.host, l.port, NULL, &keep_c)) {
		fprintf(stderr, "revoke-loop: %s\n", sealmr_errmsg(NULL));
		return 1;
	}
	if (sealmr_open(keep_c, l.export, 0, LOOP_LEN, SEALMR_READ, &keep_g)) {
		fprintf(stderr, "revoke-loop: %s\n", sealmr_errmsg(keep_c));
		sealmr_disconnect(&keep_c);
		return 1;
	}
	for (n = 1; n <= rounds; n++)
		if (loop_round(&l, n, mem))
			break;
	printf("rounds %u before_ok %u failed %u remote %u local %u reason_admin %u\n", n - 1,
	       l.before_ok, l.failed, l.remote, l.local, l.reason_admin);
	sealmr_close(&keep_g);
	sealmr_disconnect(&keep_c);
	free(mem);
	return n > rounds ? 0 : 1;
}
