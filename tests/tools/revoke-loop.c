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
 *
 *   revoke-loop SOCKET HOST:PORT EXPORT ROUNDS race
 *
 * The race: one session throughout, holding grant B (at 1 MiB) for good
 * and a fresh grant A (at 0) each round. Reads on A and B are kept in
 * flight, RACE_DEPTH each, while the administrator revokes A and until A's
 * revoke callback has run; then one more round. Every read of B must
 * return B's bytes of that round, and the session must never reconnect.
 * Prints "rounds N callbacks N a_remote N a_local N b_reads N b_bad N
 * reconnects N": A's revoke callbacks (exactly one per round is right),
 * A's reads failed on the wire and refused by the library, B's reads and
 * those that failed or returned wrong bytes.
 */
#include <errno.h>
#include <pthread.h>
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
#define RACE_DEPTH 4
#define RACE_LEN (16u << 10)   /* each read */
#define RACE_B_OFF (1u << 20)  /* grant B, in the export */
#define RACE_A_LEN (256u << 10)

struct loop {
	const char *socket, *host, *export;
	uint16_t port;
	unsigned before_ok, failed, remote, local, reason_admin;
	unsigned reason; /* of the last revoke callback */
	/* race */
	struct sealmr_grant *race_a;
	unsigned callbacks, a_callbacks, b_reads, b_bad, reconnects;
};

static void loop_on_revoke(struct sealmr_grant *g, unsigned reason, const char *text, void *arg)
{
	struct loop *l = arg;

	l->reason = reason;
	l->callbacks++;
	if (g == l->race_a)
		l->a_callbacks++;
}

static void loop_on_reconnect(struct sealmr_conn *c, unsigned reopened, unsigned lost, void *arg)
{
	struct loop *l = arg;

	l->reconnects++;
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

/* B's bytes in round n: a pattern no other round has. */
static void race_fill(char *p, size_t len, unsigned n)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (char)(n * 7 + i / 512);
}

struct race {
	struct loop *l;
	struct sealmr_conn *c;
	struct sealmr_grant *b;
	struct sealmr_buf *buf;
	char *mem, *want;
	unsigned n;
	unsigned a_busy, b_busy; /* reads in flight */
	unsigned cb_before;      /* A's callbacks before this round */
	pthread_t admin;         /* sends the revoke of revoke_id */
	uint64_t revoke_id;
	int revoke_rc;
	bool a_gone;             /* a read on A was refused or failed */
	unsigned a_remote, a_local;
};

/* Slot i of the buffer: 0..RACE_DEPTH-1 for A, the rest for B. */
static int race_post(struct race *r, bool on_a, unsigned slot)
{
	struct sealmr_grant *g = on_a ? r->l->race_a : r->b;
	uint64_t off = on_a ? (uint64_t)(slot % 8) * RACE_LEN : 0;
	int rc = sealmr_read_async(g, off, r->buf, (size_t)slot * RACE_LEN, RACE_LEN,
				   (uint64_t)slot);

	if (rc == 0)
		*(on_a ? &r->a_busy : &r->b_busy) += 1;
	return rc;
}

static void race_done(struct race *r, const struct sealmr_completion *cpl)
{
	unsigned slot = (unsigned)cpl->user_ctx;

	if (slot < RACE_DEPTH) {
		r->a_busy--;
		if (cpl->status) {
			r->a_gone = true;
			r->a_remote++;
		} else if (!r->a_gone && race_post(r, true, slot)) {
			r->a_gone = true;
			r->a_local++;
		}
		return;
	}
	r->b_busy--;
	r->l->b_reads++;
	if (cpl->status || memcmp(r->mem + (size_t)slot * RACE_LEN, r->want, RACE_LEN)) {
		r->l->b_bad++;
		fprintf(stderr, "revoke-loop: race round %u: a read of B %s\n", r->n,
			cpl->status ? sealmr_errmsg(r->c) : "returned wrong bytes");
	}
	/* B keeps reading until A's callback has run. */
	if (r->l->a_callbacks == r->cb_before)
		race_post(r, false, slot);
}

static void *race_admin(void *arg)
{
	struct race *r = arg;

	r->revoke_rc = loop_revoke(r->l, r->revoke_id);
	return NULL;
}

static int race_round(struct race *r)
{
	struct loop *l = r->l;
	struct sealmr_grant_info info;
	struct sealmr_completion cpl[2 * RACE_DEPTH];
	int rc, spins = 0;

	race_fill(r->want, RACE_LEN, r->n);
	rc = sealmr_write(r->b, 0, r->want, RACE_LEN);
	if (!rc)
		rc = sealmr_open(r->c, l->export, 0, RACE_A_LEN, SEALMR_READ, &l->race_a);
	if (rc) {
		fprintf(stderr, "revoke-loop: race round %u: %s\n", r->n, sealmr_errmsg(r->c));
		return rc;
	}
	r->a_gone = false;
	r->cb_before = l->a_callbacks;
	for (unsigned i = 0; i < 2 * RACE_DEPTH && !rc; i++)
		rc = race_post(r, i < RACE_DEPTH, i);
	sealmr_grant_get_info(l->race_a, &info);
	/* The administrator revokes from another thread, while this one
	 * keeps A's reads in flight: the deregistration meets them. */
	r->revoke_id = info.id;
	if (!rc && pthread_create(&r->admin, NULL, race_admin, r)) {
		fprintf(stderr, "revoke-loop: pthread_create failed\n");
		r->revoke_id = 0;
		rc = -EAGAIN;
	}
	/* Until A's callback ran and everything in flight came back. */
	while (!rc && (r->a_busy || r->b_busy || l->a_callbacks == r->cb_before)) {
		int n = sealmr_wait(r->c, cpl, 2 * RACE_DEPTH, 100);

		if (n < 0) {
			fprintf(stderr, "revoke-loop: race round %u: %s\n", r->n,
				sealmr_errmsg(r->c));
			rc = n;
			break;
		}
		for (int i = 0; i < n; i++)
			race_done(r, &cpl[i]);
		if (++spins > LOOP_WAIT_MS / 10) {
			fprintf(stderr, "revoke-loop: race round %u: no callback for A within %d ms "
				"(%u reads of A, %u of B in flight)\n", r->n, LOOP_WAIT_MS,
				r->a_busy, r->b_busy);
			rc = -ETIMEDOUT;
		}
	}
	if (r->revoke_id) {
		pthread_join(r->admin, NULL);
		if (!rc)
			rc = r->revoke_rc;
		r->revoke_id = 0;
	}
	sealmr_close(&l->race_a);
	return rc;
}

static int race_main(struct loop *l, unsigned rounds)
{
	struct race r = { .l = l };
	size_t len = 2 * RACE_DEPTH * RACE_LEN;
	int rc;

	r.mem = aligned_alloc(4096, len);
	r.want = malloc(RACE_LEN);
	if (!r.mem || !r.want)
		return 1;
	if (sealmr_connect(l->host, l->port, NULL, &r.c)) {
		fprintf(stderr, "revoke-loop: %s\n", sealmr_errmsg(NULL));
		return 1;
	}
	sealmr_set_revoke_cb(r.c, loop_on_revoke, l);
	sealmr_set_reconnect_cb(r.c, loop_on_reconnect, l);
	rc = sealmr_open(r.c, l->export, RACE_B_OFF, RACE_LEN, SEALMR_READ | SEALMR_WRITE, &r.b);
	if (!rc)
		rc = sealmr_buf_reg(r.c, r.mem, len, &r.buf);
	if (rc)
		fprintf(stderr, "revoke-loop: %s\n", sealmr_errmsg(r.c));
	for (r.n = 1; !rc && r.n <= rounds; r.n++)
		rc = race_round(&r);
	printf("rounds %u callbacks %u a_remote %u a_local %u b_reads %u b_bad %u reconnects %u\n",
	       rc ? r.n - 1 : rounds, l->a_callbacks, r.a_remote, r.a_local, l->b_reads, l->b_bad,
	       l->reconnects);
	sealmr_buf_dereg(&r.buf);
	sealmr_close(&r.b);
	sealmr_disconnect(&r.c);
	free(r.mem);
	free(r.want);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct loop l = { 0 };
	struct sealmr_conn *keep_c;
	struct sealmr_grant *keep_g;
	unsigned rounds, n;
	char *mem, *port;

	if (argc != 5 && (argc != 6 || strcmp(argv[5], "race"))) {
		fprintf(stderr, "usage: revoke-loop SOCKET HOST:PORT EXPORT ROUNDS [race]\n");
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
	if (argc == 6)
		return race_main(&l, rounds);
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
