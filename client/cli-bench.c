/* SPDX-License-Identifier: MIT */
/*
 * sealmr bench: --clients connections (one thread each), started together.
 *
 * --op read|write: one grant over the whole export per client, one
 * registered buffer of depth slots, async READs or WRITEs kept at depth for
 * a while over the export (or its first --span bytes), each op's latency
 * from post to completion. --lat is depth 1: the latency of one operation
 * at a time.
 *
 * --op grant: each client opens a grant of --size bytes at offset 0 and
 * closes it again, for a while: the open's latency (request to rkey in
 * hand, the daemon's registration included), the latency of a first 4 KiB
 * READ through it (on-demand paging faults the page in then), and grants
 * per second over all clients, while a one-page grant keeps the export
 * sealed.
 *
 * Clients wait for completions in sealmr_wait(), asleep on the completion
 * channel; --poll busy-polls with sealmr_poll() instead, the way perftest and
 * librpma poll their CQ, for like-for-like figures. In the test VM (2 vCPUs,
 * Soft-RoCE doing its protocol work on the same CPUs) which one is faster
 * depends on what else the host runs: a spinning client takes the CPU that
 * the kernel's rxe needs.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cli.h"

#define BENCH_FIRST_READ 4096u
#define BENCH_PAGE 4096u
#define BENCH_READ_EVERY 16u

enum bench_op { BENCH_READ, BENCH_WRITE, BENCH_GRANT };

struct bench_shared {
	const struct cli_opts *o;
	const struct cli_target *t;
	enum bench_op op;
	uint64_t size;
	unsigned depth, clients;
	pthread_barrier_t ready;
};

struct bench {
	struct bench_shared *sh;
	unsigned id;
	struct cli_session s;
	char cmd[340];
	struct sealmr_grant *g;
	struct sealmr_buf *buf;
	char *mem;
	uint64_t export_size, stride, positions, next_pos;
	unsigned inflight;
	unsigned *free_slots, nfree;
	double *posted_at;
	uint64_t *posted_off;
	bool native;     /* durable writes by sealmr_flush_async, pipelined */
	bool *flushing;  /* the slot's write completed, its flush is posted */
	uint64_t *lat_ns, *first_ns;
	size_t nlat, cap, nfirst, cap_first;
	uint64_t ops, bytes;
	double start, end;
	int rc;
};

static const char *bench_op_name(enum bench_op op)
{
	return op == BENCH_READ ? "read" : op == BENCH_WRITE ? "write" : "grant";
}

static int bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bench_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		uint64_t *p = realloc(*v, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = ncap;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int bench_post(struct bench *b)
{
	bool write = b->sh->op == BENCH_WRITE;
	uint64_t size = b->sh->size;

	while (b->nfree) {
		unsigned slot = b->free_slots[b->nfree - 1];
		uint64_t off = (b->next_pos % b->positions) * b->stride;
		/* Before the post: on Soft-RoCE the doorbell system call can do
		 * much of the operation's work before it returns. */
		double t = cli_now();
		int rc = write ? sealmr_write_async(b->g, off, b->buf, (size_t)slot * size, size, slot)
			       : sealmr_read_async(b->g, off, b->buf, (size_t)slot * size, size, slot);

		if (rc == -EAGAIN)
			return 0;
		if (rc)
			return rc;
		b->posted_at[slot] = t;
		b->posted_off[slot] = off;
		b->nfree--;
		b->inflight++;
		b->next_pos++;
	}
	return 0;
}

static void bench_status(struct bench *b, double now, double *last)
{
	const struct cli_opts *o = b->sh->o;
	double el = now - b->start;

	if (b->id || b->sh->clients > 1 || o->quiet || o->json || o->seconds <= 2 ||
	    !isatty(STDERR_FILENO) || el < 2 || now - *last < 0.5)
		return;
	*last = now;
	fprintf(stderr, "\rbench %s: %.0f/%.0f s, %.1f MB/s, %.0f ops/s\033[K",
		bench_op_name(b->sh->op), el, o->seconds, (double)b->bytes / el / 1e6,
		(double)b->ops / el);
}

/* The completions of one poll: slots back, latencies recorded. */
static int bench_reap(struct bench *b, struct sealmr_completion *comp, int n, double now)
{
	int rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		unsigned slot = (unsigned)comp[i].user_ctx;

		rc = comp[i].status;
		/* A native flush follows its write's completion at once; the
		 * slot is the write's until the flush completed. */
		if (!rc && b->native && !b->flushing[slot]) {
			rc = sealmr_flush_async(b->g, b->posted_off[slot], b->sh->size, slot);
			b->flushing[slot] = rc == 0;
			continue;
		}
		b->flushing[slot] = false;
		b->free_slots[b->nfree++] = slot;
		b->inflight--;
		/* A durable write by commit counts once its commit returned. */
		if (!rc && b->sh->o->flush && !b->native) {
			rc = sealmr_flush_with(b->g, b->posted_off[slot], b->sh->size,
					       b->sh->o->flush_method);
			now = cli_now();
		}
		if (!rc)
			rc = bench_push(&b->lat_ns, &b->nlat, &b->cap,
					(uint64_t)((now - b->posted_at[slot]) * 1e9));
		b->ops++;
		b->bytes += comp[i].bytes;
	}
	return rc;
}

static int bench_xfer(struct bench *b)
{
	struct sealmr_completion *comp = calloc(b->sh->depth, sizeof(*comp));
	double last = 0, now;
	bool stopping = false;
	int rc = 0;

	if (!comp)
		return cli_fail_msg(b->cmd, CLI_IO, "out of memory");
	b->start = cli_now();
	for (;;) {
		int n;

		if (!stopping) {
			rc = bench_post(b);
			if (rc)
				break;
		}
		n = b->sh->o->poll ? sealmr_poll(b->s.conn, comp, (int)b->sh->depth)
				: sealmr_wait(b->s.conn, comp, (int)b->sh->depth, 100);
		if (n < 0) {
			rc = n;
			break;
		}
		now = cli_now();
		rc = bench_reap(b, comp, n, now);
		if (rc)
			break;
		if (now - b->start >= b->sh->o->seconds)
			stopping = true;
		if (stopping && b->inflight == 0)
			break;
		bench_status(b, now, &last);
	}
	b->end = cli_now();
	if (last > 0)
		fputs("\r\033[K", stderr);
	free(comp);
	return rc ? cli_fail(&b->s, CLI_PHASE_DATA, rc) : 0;
}

/*
 * Open and close until the time is up; every BENCH_READ_EVERY-th grant also
 * READs its first bytes through the new rkey before the close (the first
 * access's cost, ODP faulting the page in), so that the rate is mostly open
 * and close. A page-sized grant stays open meanwhile: the daemon lifts an
 * export's seal with its last grant, and the seal (mapping the whole export)
 * is not what a grant of a served export costs.
 */
static int bench_grants(struct bench *b)
{
	const char *export = b->sh->t->export;
	char page[BENCH_FIRST_READ];
	struct sealmr_grant *anchor;
	int rc = sealmr_open(b->s.conn, export, 0, BENCH_PAGE, SEALMR_READ, &anchor);

	if (rc)
		return cli_fail(&b->s, CLI_PHASE_CTRL, rc);
	b->start = cli_now();
	do {
		double t0 = cli_now(), t1, t2;

		rc = sealmr_open(b->s.conn, export, 0, b->sh->size, SEALMR_READ, &b->g);
		if (rc)
			break;
		t1 = t2 = cli_now();
		if (b->ops % BENCH_READ_EVERY == 0) {
			rc = sealmr_read(b->g, 0, page,
					 sizeof(page) < b->sh->size ? sizeof(page) : b->sh->size);
			if (rc) {
				rc = cli_fail(&b->s, CLI_PHASE_DATA, rc);
				goto out;
			}
			t2 = cli_now();
		}
		rc = sealmr_close(&b->g);
		if (rc)
			break;
		if (bench_push(&b->lat_ns, &b->nlat, &b->cap, (uint64_t)((t1 - t0) * 1e9)) ||
		    (t2 > t1 && bench_push(&b->first_ns, &b->nfirst, &b->cap_first,
					   (uint64_t)((t2 - t0) * 1e9)))) {
			rc = cli_fail_msg(b->cmd, CLI_IO, "out of memory");
			goto out;
		}
		b->ops++;
	} while (cli_now() - b->start < b->sh->o->seconds);
	b->end = cli_now();
	if (rc)
		rc = cli_fail(&b->s, CLI_PHASE_CTRL, rc);
out:
	sealmr_close(&anchor);
	return rc;
}

/* Connection, grant over the whole export, registered buffer, slots. */
static int bench_setup(struct bench *b)
{
	const struct bench_shared *sh = b->sh;
	size_t len = (size_t)(sh->size * sh->depth);
	struct sealmr_stat st;
	int rc = cli_connect(&b->s, sh->t, sh->o, sh->depth);

	if (rc)
		return rc;
	rc = sealmr_stat(b->s.conn, sh->t->export, &st);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_CTRL, rc);
	if (st.size < sh->size)
		return cli_fail_msg(b->cmd, CLI_USAGE, "--size %" PRIu64 " is larger than export "
				    "'%s' (%" PRIu64 " bytes)", sh->size, sh->t->export, st.size);
	b->export_size = st.size;
	/* Every op starts on a page: on Soft-RoCE a transfer into an
	 * on-demand-paging MR that does not goes partly through the daemon
	 * (quirk.c), which is not what a bandwidth figure measures, and small
	 * ops then do not share pages, as perftest's do not. */
	b->stride = (sh->size + BENCH_PAGE - 1) / BENCH_PAGE * BENCH_PAGE;
	if (sh->op == BENCH_GRANT)
		return 0;
	/* --span: cycle over the first BYTES only, as perftest cycles over its
	 * buffer; on-demand paging then faults each page in once, not on every
	 * op of a first pass over the whole export. */
	b->positions = (sh->o->span && sh->o->span < st.size ? sh->o->span : st.size) / b->stride;
	if (b->positions == 0)
		b->positions = 1;
	/* Clients spread over the export: each starts in its own part. */
	b->next_pos = b->positions * b->id / sh->clients;
	rc = sealmr_open(b->s.conn, sh->t->export, 0, st.size,
			 sh->op == BENCH_WRITE ? SEALMR_WRITE : SEALMR_READ, &b->g);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_CTRL, rc);
	if (sh->o->flush) {
		/* A flush of nothing says whether the method can be. */
		rc = sealmr_flush_with(b->g, 0, 0, sh->o->flush_method);
		if (rc)
			return cli_fail(&b->s, CLI_PHASE_DATA, rc);
		b->native = sh->o->flush_method == SEALMR_FLUSH_RDMA_FLUSH ||
			    (sh->o->flush_method == 0 &&
			     sealmr_flush_with(b->g, 0, 0, SEALMR_FLUSH_RDMA_FLUSH) == 0);
	}
	b->mem = aligned_alloc(4096, (len + 4095) / 4096 * 4096);
	b->free_slots = calloc(sh->depth, sizeof(*b->free_slots));
	b->posted_at = calloc(sh->depth, sizeof(*b->posted_at));
	b->posted_off = calloc(sh->depth, sizeof(*b->posted_off));
	b->flushing = calloc(sh->depth, sizeof(*b->flushing));
	if (!b->mem || !b->free_slots || !b->posted_at || !b->posted_off || !b->flushing)
		return cli_fail_msg(b->cmd, CLI_IO, "out of memory for %u x %" PRIu64 " bytes",
				    sh->depth, sh->size);
	for (size_t i = 0; i < len; i++)
		b->mem[i] = (char)(i * 131 + 7);
	rc = sealmr_buf_reg(b->s.conn, b->mem, len, &b->buf);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_DATA, rc);
	for (unsigned i = 0; i < sh->depth; i++)
		b->free_slots[b->nfree++] = sh->depth - 1 - i;
	return 0;
}

static void *bench_thread(void *arg)
{
	struct bench *b = arg;

	b->rc = bench_setup(b);
	/* Everyone waits for everyone, failed or not: no one is left behind. */
	pthread_barrier_wait(&b->sh->ready);
	if (b->rc == 0)
		b->rc = b->sh->op == BENCH_GRANT ? bench_grants(b) : bench_xfer(b);
	return NULL;
}

static void bench_cleanup(struct bench *b)
{
	sealmr_buf_dereg(&b->buf);
	if (b->s.conn)
		sealmr_close(&b->g);
	cli_disconnect(&b->s);
	free(b->mem);
	free(b->free_slots);
	free(b->posted_at);
	free(b->posted_off);
	free(b->flushing);
	free(b->lat_ns);
	free(b->first_ns);
}

struct bench_stats {
	double secs, mbs, ops_s, p50, p99, avg, max, first_avg;
	uint64_t ops, bytes;
};

static double bench_avg_us(const uint64_t *v, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return n ? (double)sum / (double)n / 1e3 : 0;
}

/* Over all clients: the wall time from the first start to the last end. */
static int bench_sum(struct bench *bs, unsigned n, struct bench_stats *st)
{
	size_t nlat = 0, nfirst = 0;
	uint64_t *lat, *first;
	double start = bs[0].start, end = bs[0].end;

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < n; i++) {
		nlat += bs[i].nlat;
		nfirst += bs[i].nfirst;
		st->ops += bs[i].ops;
		st->bytes += bs[i].bytes;
		start = bs[i].start < start ? bs[i].start : start;
		end = bs[i].end > end ? bs[i].end : end;
	}
	lat = malloc((nlat + 1) * sizeof(*lat));
	first = malloc((nfirst + 1) * sizeof(*first));
	if (!lat || !first) {
		free(lat);
		free(first);
		return -ENOMEM;
	}
	nlat = nfirst = 0;
	for (unsigned i = 0; i < n; i++) {
		/* memcpy from NULL is undefined even for 0 bytes. */
		if (bs[i].nlat)
			memcpy(lat + nlat, bs[i].lat_ns, bs[i].nlat * sizeof(*lat));
		nlat += bs[i].nlat;
		if (bs[i].nfirst)
			memcpy(first + nfirst, bs[i].first_ns, bs[i].nfirst * sizeof(*first));
		nfirst += bs[i].nfirst;
	}
	st->secs = end - start;
	st->mbs = st->secs > 0 ? (double)st->bytes / st->secs / 1e6 : 0;
	st->ops_s = st->secs > 0 ? (double)st->ops / st->secs : 0;
	if (nlat) {
		qsort(lat, nlat, sizeof(*lat), bench_cmp);
		st->p50 = (double)lat[nlat / 2] / 1e3;
		st->p99 = (double)lat[nlat * 99 / 100] / 1e3;
		st->max = (double)lat[nlat - 1] / 1e3;
		st->avg = bench_avg_us(lat, nlat);
	}
	st->first_avg = bench_avg_us(first, nfirst);
	free(lat);
	free(first);
	return 0;
}

static void bench_json(const struct bench_shared *sh, const struct bench_stats *st)
{
	json_object *x = json_object_new_object();

#define ADD(k, v) json_object_object_add(x, k, v)
	ADD("op", json_object_new_string(bench_op_name(sh->op)));
	ADD("size", json_object_new_uint64(sh->size));
	ADD("depth", json_object_new_int64(sh->depth));
	ADD("qps", json_object_new_int64(sh->o->qps ? sh->o->qps : SEALMR_DEFAULT_QPS));
	ADD("clients", json_object_new_int64(sh->clients));
	ADD("wait", json_object_new_string(sh->o->poll ? "poll" : "sleep"));
	ADD("flush", json_object_new_string(!sh->o->flush ? "none" : cli_flush_name(sh->o->flush_method)));
	ADD("ops", json_object_new_uint64(st->ops));
	ADD("bytes", json_object_new_uint64(st->bytes));
	ADD("seconds", json_object_new_double(st->secs));
	ADD("mb_per_s", json_object_new_double(st->mbs));
	ADD("mib_per_s", json_object_new_double(st->mbs * 1e6 / 1048576));
	ADD("ops_per_s", json_object_new_double(st->ops_s));
	if (sh->op == BENCH_GRANT) {
		ADD("grants_per_s", json_object_new_double(st->ops_s));
		ADD("first_read_us_avg", json_object_new_double(st->first_avg));
	}
	ADD("lat_us_p50", json_object_new_double(st->p50));
	ADD("lat_us_p99", json_object_new_double(st->p99));
	ADD("lat_us_avg", json_object_new_double(st->avg));
	ADD("lat_us_max", json_object_new_double(st->max));
#undef ADD
	puts(json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
	json_object_put(x);
}

static void bench_print(const struct bench_shared *sh, const struct bench_stats *st)
{
	if (sh->o->json) {
		bench_json(sh, st);
		return;
	}
	printf("bench %s: size %" PRIu64 ", depth %u, %u QP%s, %u client%s, %.2f s\n",
	       bench_op_name(sh->op), sh->size, sh->depth, sh->o->qps ? sh->o->qps : SEALMR_DEFAULT_QPS,
	       (sh->o->qps ? sh->o->qps : SEALMR_DEFAULT_QPS) == 1 ? "" : "s", sh->clients, sh->clients > 1 ? "s" : "", st->secs);
	if (sh->op == BENCH_GRANT) {
		printf("  %" PRIu64 " grants opened and closed: %.1f grants/s\n", st->ops, st->ops_s);
		printf("  open latency us: p50 %.1f  p99 %.1f  avg %.1f  max %.1f; "
		       "open + first %u-byte read: avg %.1f\n", st->p50, st->p99, st->avg, st->max,
		       BENCH_FIRST_READ, st->first_avg);
		return;
	}
	printf("  %" PRIu64 " ops, %" PRIu64 " bytes: %.1f MB/s (%.1f MiB/s), %.0f ops/s\n",
	       st->ops, st->bytes, st->mbs, st->mbs * 1e6 / 1048576, st->ops_s);
	printf("  latency us: p50 %.1f  p99 %.1f  avg %.1f  max %.1f\n", st->p50, st->p99, st->avg,
	       st->max);
}

static int bench_check(const char *cmd, const struct cli_opts *o, struct bench_shared *sh)
{
	if (!strcmp(o->op, "read"))
		sh->op = BENCH_READ;
	else if (!strcmp(o->op, "write"))
		sh->op = BENCH_WRITE;
	else if (!strcmp(o->op, "grant"))
		sh->op = BENCH_GRANT;
	else
		return cli_fail_msg(cmd, CLI_USAGE, "--op is read or write (or grant), not '%s'", o->op);
	if (o->flush && sh->op != BENCH_WRITE)
		return cli_fail_msg(cmd, CLI_USAGE, "--flush makes writes durable: it goes with "
				    "--op write, not --op %s", o->op);
	sh->size = o->size;
	sh->depth = o->lat ? 1 : o->depth;
	sh->clients = o->clients ? o->clients : 1;
	if (sh->size == 0 || sh->depth == 0 || sh->depth > 4096 || o->seconds <= 0 ||
	    sh->clients > 1024 ||
	    (sh->op != BENCH_GRANT && (sh->size > (1u << 30) || sh->size * sh->depth > (1ull << 30))))
		return cli_fail_msg(cmd, CLI_USAGE, "--size is 1 to 1G, --depth 1 to 4096, "
				    "size x depth at most 1G, --time > 0, --clients 1 to 1024");
	return 0;
}

static int bench_run_all(struct bench_shared *sh, struct bench *bs)
{
	pthread_t *th = calloc(sh->clients, sizeof(*th));
	struct bench_stats st;
	unsigned started = 0;
	int rc = 0;

	if (!th)
		return cli_fail_msg("bench", CLI_IO, "out of memory");
	pthread_barrier_init(&sh->ready, NULL, sh->clients);
	for (; started < sh->clients; started++) {
		rc = pthread_create(&th[started], NULL, bench_thread, &bs[started]);
		if (rc)
			break;
	}
	if (rc) {
		/* The barrier counts every client: run the missing ones here. */
		fprintf(stderr, "%s: bench: pthread_create: %s\n", cli_prog, strerror(rc));
		for (unsigned i = started; i < sh->clients; i++) {
			bs[i].rc = CLI_IO;
			pthread_barrier_wait(&sh->ready);
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&sh->ready);
	free(th);
	for (unsigned i = 0; i < sh->clients; i++)
		if (bs[i].rc)
			return bs[i].rc;
	if (bench_sum(bs, sh->clients, &st))
		return cli_fail_msg("bench", CLI_IO, "out of memory");
	bench_print(sh, &st);
	return 0;
}

int cli_bench(const struct cli_opts *o, int argc, char **argv)
{
	struct bench_shared sh = { .o = o };
	struct cli_target t;
	struct bench *bs;
	char cmd[300];
	int rc;

	if (argc != 1)
		return cli_fail_msg("bench", CLI_USAGE, "usage: bench HOST[:PORT]/EXPORT "
				    "--op read|write|grant --size BYTES --depth N|--lat "
				    "--clients N --time SECONDS [--json]");
	snprintf(cmd, sizeof(cmd), "bench %s", argv[0]);
	rc = cli_parse_target(cmd, argv[0], true, &t);
	if (rc)
		return rc;
	rc = bench_check(cmd, o, &sh);
	if (rc)
		return rc;
	sh.t = &t;
	bs = calloc(sh.clients, sizeof(*bs));
	if (!bs)
		return cli_fail_msg(cmd, CLI_IO, "out of memory");
	for (unsigned i = 0; i < sh.clients; i++) {
		bs[i].sh = &sh;
		bs[i].id = i;
		if (sh.clients > 1)
			snprintf(bs[i].cmd, sizeof(bs[i].cmd), "%s (client %u)", cmd, i);
		else
			snprintf(bs[i].cmd, sizeof(bs[i].cmd), "%s", cmd);
		bs[i].s.cmd = bs[i].cmd;
	}
	rc = bench_run_all(&sh, bs);
	for (unsigned i = 0; i < sh.clients; i++)
		bench_cleanup(&bs[i]);
	free(bs);
	return rc;
}
