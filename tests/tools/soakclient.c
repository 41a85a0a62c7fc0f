/* SPDX-License-Identifier: MIT */
/*
 * soakclient: one client of the soak test. It owns [OFFSET, +LENGTH) of an
 * export and keeps a copy of what that range must hold; for SECONDS it
 * (counted from when its whole range is written, then "ready" on stderr)
 * writes random bytes at random places (flushing some), reads random
 * places back and compares them with its copy, flushes, closes and
 * re-opens its grant, and disconnects and reconnects.
 *
 *   soakclient HOST:PORT EXPORT OFFSET LENGTH SECONDS SEED [revocable]
 *
 * Without "revocable" every failure is an error. With it, the daemon may
 * take the export away at any time (a reload that removes it): a failure
 * that a revoke explains (EACCES, the connection lost after the remote
 * access error, ENOENT while the export is gone, EBADF for a grant revoked
 * before the client heard of it) counts as a revoke, and
 * the client reconnects, re-opens when the export is back, and rewrites
 * the range it was writing when the revoke came; it runs on past SECONDS
 * (up to 120 s) until at least one revoke has hit it. A mismatch on a read
 * back is always an error.
 *
 * At the end it flushes its whole range, reads it all back and prints
 *   ops N errors N verified BYTES revokes N reopens N reconnects N sha256 HEX
 * (HEX: its copy of the range, to compare with the file). Exits 1 if any
 * error, 3 if it could not get its grant back within 60 s.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sealmr/sealmr.h>

#include "sha256.h"

#define SOAK_IO_MAX (64u << 10)
#define SOAK_RECOVER_S 60
#define SOAK_TIMEOUT_MS 30000

struct soak {
	char host[256];
	uint16_t port;
	const char *export;
	uint64_t off, len;
	bool revocable;
	struct sealmr_conn *conn;
	struct sealmr_grant *g;
	unsigned char *copy; /* what [off, +len) must hold */
	unsigned char *buf;
	uint64_t dirty_off, dirty_len; /* written, maybe not all there */
	uint64_t rnd;
	uint64_t ops, errors, verified, revokes, reopens, reconnects, revoke_cbs;
};

static uint64_t soak_rand(struct soak *s)
{
	s->rnd ^= s->rnd >> 12;
	s->rnd ^= s->rnd << 25;
	s->rnd ^= s->rnd >> 27;
	return s->rnd * 0x2545f4914f6cdd1dull;
}

static double soak_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void soak_on_revoke(struct sealmr_grant *g, unsigned reason, const char *text, void *arg)
{
	struct soak *s = arg;

	(void)g;
	s->revoke_cbs++;
	if (!s->revocable) {
		fprintf(stderr, "soakclient %s@%" PRIu64 ": unexpected revoke (reason %u): %s\n",
			s->export, s->off, reason, text);
		s->errors++;
	}
}

/* A failed call: an error, or a revoke where revokes are expected. */
static void soak_failed(struct soak *s, const char *what, int rc)
{
	/* EBADF: a request about a grant the daemon revoked before the client
	 * heard of it. */
	bool revoke = s->revocable && (rc == -EACCES || rc == -ENOTCONN || rc == -ECONNRESET ||
				       rc == -ECONNABORTED || rc == -ENOENT || rc == -EPIPE ||
				       rc == -EBADF);

	if (revoke) {
		s->revokes++;
		return;
	}
	s->errors++;
	fprintf(stderr, "soakclient %s@%" PRIu64 ": %s: %s (%s)\n", s->export, s->off, what,
		s->conn ? sealmr_errmsg(s->conn) : sealmr_errmsg(NULL), strerror(-rc));
}

static int soak_connect(struct soak *s)
{
	/* 16 clients on 2 emulated CPUs: replies may take a while. */
	struct sealmr_conn_opts opts = { .timeout_ms = SOAK_TIMEOUT_MS };
	int rc = sealmr_connect(s->host, s->port, &opts, &s->conn);

	if (rc)
		return rc;
	sealmr_set_revoke_cb(s->conn, soak_on_revoke, s);
	rc = sealmr_open(s->conn, s->export, s->off, s->len, SEALMR_WRITE, &s->g);
	if (rc) {
		fprintf(stderr, "soakclient %s@%" PRIu64 ": open: %s\n", s->export, s->off,
			sealmr_errmsg(s->conn));
		sealmr_disconnect(&s->conn);
	}
	return rc;
}

/* The range that may not hold its bytes is written again, and flushed. */
static int soak_rewrite_dirty(struct soak *s)
{
	int rc;

	if (!s->dirty_len)
		return 0;
	rc = sealmr_write(s->g, s->dirty_off, s->copy + s->dirty_off, s->dirty_len);
	if (rc == 0)
		rc = sealmr_flush(s->g, s->dirty_off, s->dirty_len);
	if (rc == 0)
		s->dirty_len = 0;
	return rc;
}

/* A new connection and grant, then the dirty range rewritten. */
static int soak_recover(struct soak *s)
{
	double until = soak_now() + SOAK_RECOVER_S;
	int rc;

	while (soak_now() < until) {
		sealmr_disconnect(&s->conn);
		s->g = NULL;
		rc = soak_connect(s);
		if (rc == 0)
			rc = soak_rewrite_dirty(s);
		if (rc == 0)
			return 0;
		/* ENOENT: the export is away for now. */
		if (rc != -ENOENT || !s->revocable)
			soak_failed(s, "reconnect", rc);
		usleep(100000);
	}
	fprintf(stderr, "soakclient %s@%" PRIu64 ": no grant back within %d s\n", s->export,
		s->off, SOAK_RECOVER_S);
	return -ETIMEDOUT;
}

static void soak_range(struct soak *s, uint64_t *off, size_t *len)
{
	*off = soak_rand(s) % s->len;
	*len = (size_t)(soak_rand(s) % SOAK_IO_MAX) + 1;
	if (*len > s->len - *off)
		*len = (size_t)(s->len - *off);
}

static int soak_write(struct soak *s, bool flush)
{
	uint64_t off;
	size_t len;
	int rc;

	soak_range(s, &off, &len);
	for (size_t i = 0; i < len; i++)
		s->copy[off + i] = (unsigned char)soak_rand(s);
	s->dirty_off = off;
	s->dirty_len = len;
	rc = sealmr_write(s->g, off, s->copy + off, len);
	if (rc)
		return rc;
	if (flush)
		rc = sealmr_flush(s->g, off, len);
	if (rc == 0)
		s->dirty_len = 0;
	return rc;
}

static int soak_check(struct soak *s, uint64_t off, size_t len)
{
	int rc = sealmr_read(s->g, off, s->buf, len);

	if (rc)
		return rc;
	if (memcmp(s->buf, s->copy + off, len)) {
		size_t i = 0;

		while (s->buf[i] == s->copy[off + i])
			i++;
		s->errors++;
		fprintf(stderr, "soakclient %s@%" PRIu64 ": read back [%" PRIu64 ", +%zu): byte %"
			PRIu64 " is 0x%02x, wrote 0x%02x\n", s->export, s->off, off, len,
			off + i, s->buf[i], s->copy[off + i]);
		return 0;
	}
	s->verified += len;
	return 0;
}

static int soak_op(struct soak *s)
{
	unsigned p = (unsigned)(soak_rand(s) % 100);
	uint64_t off;
	size_t len;
	int rc;

	if (p < 35)
		return soak_write(s, p & 1);
	if (p < 75) {
		soak_range(s, &off, &len);
		return soak_check(s, off, len);
	}
	if (p < 87) {
		soak_range(s, &off, &len);
		return sealmr_flush(s->g, off, len);
	}
	if (p < 97) {
		rc = sealmr_close(&s->g);
		if (rc == 0)
			rc = sealmr_open(s->conn, s->export, s->off, s->len, SEALMR_WRITE, &s->g);
		s->reopens++;
		return rc;
	}
	sealmr_disconnect(&s->conn);
	s->g = NULL;
	s->reconnects++;
	return soak_connect(s);
}

static int soak_run(struct soak *s, double seconds)
{
	char hex[SHA256_HEX_LEN];
	double end;
	int rc;

	/* First the whole range, so that every byte of it is known. */
	for (uint64_t i = 0; i < s->len; i++)
		s->copy[i] = (unsigned char)soak_rand(s);
	s->dirty_off = 0;
	s->dirty_len = s->len;
	rc = soak_connect(s);
	if (rc == 0)
		rc = soak_rewrite_dirty(s);
	if (rc) {
		soak_failed(s, "start", rc);
		if (soak_recover(s))
			return 3;
	}
	/* The clock starts once the range is known, however slow the start. */
	fprintf(stderr, "soakclient %s@%" PRIu64 ": ready\n", s->export, s->off);
	end = soak_now() + seconds;
	/* A revocable client goes on (up to 120 s more) until a revoke hit it. */
	while (soak_now() < end ||
	       (s->revocable && !s->revokes && !s->revoke_cbs && soak_now() < end + 120)) {
		rc = soak_op(s);
		s->ops++;
		if (rc) {
			soak_failed(s, "operation", rc);
			if (soak_recover(s))
				return 3;
		}
	}
	if (s->revocable && !s->revokes && !s->revoke_cbs) {
		fprintf(stderr, "soakclient %s@%" PRIu64 ": no revoke in %.0f s\n", s->export,
			s->off, seconds + 120);
		s->errors++;
	}
	/* The end: all of it durable and read back. */
	for (;;) {
		rc = sealmr_flush(s->g, 0, s->len);
		for (uint64_t o = 0; rc == 0 && o < s->len; o += SOAK_IO_MAX)
			rc = soak_check(s, o, s->len - o < SOAK_IO_MAX ? s->len - o : SOAK_IO_MAX);
		if (rc == 0)
			break;
		soak_failed(s, "final flush and read", rc);
		if (soak_recover(s))
			return 3;
	}
	sealmr_disconnect(&s->conn);
	sha256_hex(s->copy, s->len, hex);
	printf("ops %" PRIu64 " errors %" PRIu64 " verified %" PRIu64 " revokes %" PRIu64
	       " reopens %" PRIu64 " reconnects %" PRIu64 " sha256 %s\n", s->ops, s->errors,
	       s->verified, s->revokes, s->reopens, s->reconnects, hex);
	return s->errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct soak s = { 0 };
	char *port;
	int rc;

	if (argc < 7 || argc > 8 || (argc == 8 && strcmp(argv[7], "revocable"))) {
		fprintf(stderr, "usage: soakclient HOST:PORT EXPORT OFFSET LENGTH SECONDS SEED "
				"[revocable]\n");
		return 2;
	}
	snprintf(s.host, sizeof(s.host), "%s", argv[1]);
	port = strrchr(s.host, ':');
	if (port) {
		*port++ = '\0';
		s.port = (uint16_t)atoi(port);
	}
	s.export = argv[2];
	s.off = strtoull(argv[3], NULL, 0);
	s.len = strtoull(argv[4], NULL, 0);
	s.rnd = strtoull(argv[6], NULL, 0) * 2654435761u + 1;
	s.revocable = argc == 8;
	s.copy = malloc(s.len);
	s.buf = malloc(SOAK_IO_MAX);
	if (!s.len || !s.copy || !s.buf) {
		fprintf(stderr, "soakclient: bad length or out of memory\n");
		free(s.copy);
		free(s.buf);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = soak_run(&s, strtod(argv[5], NULL));
	sealmr_disconnect(&s.conn);
	free(s.copy);
	free(s.buf);
	return rc;
}
