/* SPDX-License-Identifier: MIT */
/*
 * sealmr bench: one grant over the whole export, one registered buffer of
 * depth slots, async READs or WRITEs kept at depth for a while, each op's
 * latency from post to completion.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cli.h"

struct bench {
	struct cli_session s;
	const struct cli_opts *o;
	struct sealmr_grant *g;
	struct sealmr_buf *buf;
	char *mem;
	bool write;
	uint64_t size, positions, next_pos;
	unsigned depth, inflight;
	unsigned *free_slots, nfree;
	double *posted_at;
	uint64_t *lat_ns;
	size_t nlat, cap;
	uint64_t ops, bytes;
	double start, end;
};

static int bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bench_record(struct bench *b, double lat_s)
{
	if (b->nlat == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		uint64_t *n = realloc(b->lat_ns, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->lat_ns = n;
		b->cap = cap;
	}
	b->lat_ns[b->nlat++] = (uint64_t)(lat_s * 1e9);
	return 0;
}

static int bench_post(struct bench *b)
{
	while (b->nfree) {
		unsigned slot = b->free_slots[b->nfree - 1];
		uint64_t off = (b->next_pos % b->positions) * b->size;
		int rc = b->write
			? sealmr_write_async(b->g, off, b->buf, (size_t)slot * b->size, b->size, slot)
			: sealmr_read_async(b->g, off, b->buf, (size_t)slot * b->size, b->size, slot);

		if (rc == -EAGAIN)
			return 0;
		if (rc)
			return rc;
		b->posted_at[slot] = cli_now();
		b->nfree--;
		b->inflight++;
		b->next_pos++;
	}
	return 0;
}

static void bench_status(struct bench *b, double now, double *last)
{
	double el = now - b->start;

	if (b->o->quiet || b->o->json || b->o->seconds <= 2 || !isatty(STDERR_FILENO) ||
	    el < 2 || now - *last < 0.5)
		return;
	*last = now;
	fprintf(stderr, "\rbench %s: %.0f/%.0f s, %.1f MB/s, %.0f ops/s\033[K",
		b->write ? "write" : "read", el, b->o->seconds, (double)b->bytes / el / 1e6,
		(double)b->ops / el);
}

static int bench_run(struct bench *b)
{
	struct sealmr_completion *comp = calloc(b->depth, sizeof(*comp));
	double last = 0, now;
	bool stopping = false;
	int rc = 0;

	if (!comp)
		return cli_fail_msg(b->s.cmd, CLI_IO, "out of memory");
	b->start = cli_now();
	for (;;) {
		int n;

		if (!stopping) {
			rc = bench_post(b);
			if (rc)
				break;
		}
		n = sealmr_wait(b->s.conn, comp, (int)b->depth, 100);
		if (n < 0) {
			rc = n;
			break;
		}
		now = cli_now();
		for (int i = 0; i < n && !rc; i++) {
			unsigned slot = (unsigned)comp[i].user_ctx;

			b->free_slots[b->nfree++] = slot;
			b->inflight--;
			rc = comp[i].status;
			if (!rc)
				rc = bench_record(b, now - b->posted_at[slot]);
			b->ops++;
			b->bytes += comp[i].bytes;
		}
		if (rc)
			break;
		if (now - b->start >= b->o->seconds)
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

static void bench_print(const struct bench *b)
{
	double secs = b->end - b->start;
	double mbs = secs > 0 ? (double)b->bytes / secs / 1e6 : 0;
	double ops = secs > 0 ? (double)b->ops / secs : 0;
	double p50 = 0, p99 = 0, avg = 0, max = 0;

	if (b->nlat) {
		uint64_t sum = 0;

		qsort(b->lat_ns, b->nlat, sizeof(*b->lat_ns), bench_cmp);
		p50 = (double)b->lat_ns[b->nlat / 2] / 1e3;
		p99 = (double)b->lat_ns[b->nlat * 99 / 100 < b->nlat ? b->nlat * 99 / 100
								       : b->nlat - 1] / 1e3;
		max = (double)b->lat_ns[b->nlat - 1] / 1e3;
		for (size_t i = 0; i < b->nlat; i++)
			sum += b->lat_ns[i];
		avg = (double)sum / (double)b->nlat / 1e3;
	}
	if (b->o->json) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "op", json_object_new_string(b->write ? "write" : "read"));
		json_object_object_add(x, "size", json_object_new_uint64(b->size));
		json_object_object_add(x, "depth", json_object_new_int64(b->depth));
		json_object_object_add(x, "ops", json_object_new_uint64(b->ops));
		json_object_object_add(x, "bytes", json_object_new_uint64(b->bytes));
		json_object_object_add(x, "seconds", json_object_new_double(secs));
		json_object_object_add(x, "mb_per_s", json_object_new_double(mbs));
		json_object_object_add(x, "mib_per_s", json_object_new_double(mbs * 1e6 / 1048576));
		json_object_object_add(x, "ops_per_s", json_object_new_double(ops));
		json_object_object_add(x, "lat_us_p50", json_object_new_double(p50));
		json_object_object_add(x, "lat_us_p99", json_object_new_double(p99));
		json_object_object_add(x, "lat_us_avg", json_object_new_double(avg));
		json_object_object_add(x, "lat_us_max", json_object_new_double(max));
		puts(json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
		json_object_put(x);
		return;
	}
	printf("bench %s: size %" PRIu64 ", depth %u, %.2f s\n", b->write ? "write" : "read",
	       b->size, b->depth, secs);
	printf("  %" PRIu64 " ops, %" PRIu64 " bytes: %.1f MB/s (%.1f MiB/s), %.0f ops/s\n", b->ops,
	       b->bytes, mbs, mbs * 1e6 / 1048576, ops);
	printf("  latency us: p50 %.1f  p99 %.1f  avg %.1f  max %.1f\n", p50, p99, avg, max);
}

/* Connection, grant over the whole export, registered buffer, slots. */
static int bench_setup(struct bench *b, const struct cli_target *t)
{
	struct sealmr_stat st;
	int rc = cli_connect(&b->s, t, b->o, b->depth);

	if (rc)
		return rc;
	rc = sealmr_stat(b->s.conn, t->export, &st);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_CTRL, rc);
	if (st.size < b->size)
		return cli_fail_msg(b->s.cmd, CLI_USAGE, "--size %" PRIu64 " is larger than export "
				    "'%s' (%" PRIu64 " bytes)", b->size, t->export, st.size);
	b->positions = st.size / b->size;
	rc = sealmr_open(b->s.conn, t->export, 0, st.size, b->write ? SEALMR_WRITE : SEALMR_READ,
			 &b->g);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_CTRL, rc);
	b->mem = aligned_alloc(4096, (size_t)(b->size * b->depth + 4095) / 4096 * 4096);
	b->free_slots = calloc(b->depth, sizeof(*b->free_slots));
	b->posted_at = calloc(b->depth, sizeof(*b->posted_at));
	if (!b->mem || !b->free_slots || !b->posted_at)
		return cli_fail_msg(b->s.cmd, CLI_IO, "out of memory for %u x %" PRIu64 " bytes",
				    b->depth, b->size);
	for (size_t i = 0; i < b->size * b->depth; i++)
		b->mem[i] = (char)(i * 131 + 7);
	rc = sealmr_buf_reg(b->s.conn, b->mem, (size_t)(b->size * b->depth), &b->buf);
	if (rc)
		return cli_fail(&b->s, CLI_PHASE_DATA, rc);
	for (unsigned i = 0; i < b->depth; i++)
		b->free_slots[b->nfree++] = b->depth - 1 - i;
	return 0;
}

int cli_bench(const struct cli_opts *o, int argc, char **argv)
{
	struct bench b = { .o = o };
	struct cli_target t;
	char cmd[300];
	int rc;

	if (argc != 1)
		return cli_fail_msg("bench", CLI_USAGE, "usage: bench HOST[:PORT]/EXPORT --op read|write "
				    "--size BYTES --depth N --time SECONDS [--json]");
	snprintf(cmd, sizeof(cmd), "bench %s", argv[0]);
	b.s.cmd = cmd;
	rc = cli_parse_target(cmd, argv[0], true, &t);
	if (rc)
		return rc;
	if (strcmp(o->op, "read") && strcmp(o->op, "write"))
		return cli_fail_msg(cmd, CLI_USAGE, "--op is read or write, not '%s'", o->op);
	if (o->size == 0 || o->size > (1u << 30) || o->depth == 0 || o->depth > 4096 ||
	    o->seconds <= 0 || o->size * o->depth > (1ull << 30))
		return cli_fail_msg(cmd, CLI_USAGE, "--size is 1 to 1G, --depth 1 to 4096, "
				    "size x depth at most 1G, --time > 0");
	b.write = !strcmp(o->op, "write");
	b.size = o->size;
	b.depth = o->depth;
	rc = bench_setup(&b, &t);
	if (rc == 0)
		rc = bench_run(&b);
	if (rc == 0)
		bench_print(&b);
	sealmr_buf_dereg(&b.buf);
	if (b.s.conn)
		sealmr_close(&b.g);
	cli_disconnect(&b.s);
	free(b.mem);
	free(b.free_slots);
	free(b.posted_at);
	free(b.lat_ns);
	return rc;
}
