/* SPDX-License-Identifier: MIT */
/*
 * rpma-bench: librpma's one-sided WRITE, READ and FLUSH against memory on
 * fs-dax, for bench/run to set beside sealmr and perftest.
 *
 *   rpma-bench server ADDR PORT FILE SIZE
 *	maps SIZE bytes of FILE (MAP_SHARED_VALIDATE|MAP_SYNC where the file
 *	system is DAX), registers it with rpma_mr_reg(READ_SRC|WRITE_DST|
 *	FLUSH_TYPE_*) and serves one client after another until killed; the
 *	memory descriptor and the peer configuration travel in the connection's
 *	private data. Says on stderr what the memory is and how it registered:
 *	a pinned ibv_reg_mr of fs-dax fails with EOPNOTSUPP on Linux, and
 *	librpma then registers on-demand paging (its peer.c); if even that
 *	fails, the server falls back to anonymous DRAM and says so.
 *   rpma-bench client ADDR PORT --op read|write [--flush] --size BYTES
 *		[--depth N] [--time SECONDS]
 *	keeps depth operations in flight (busy-polling the CQ, as perftest
 *	does) and prints one JSON object: op, size, depth, memory, mb_per_s,
 *	lat_us_avg. --flush follows each write by rpma_flush(PERSISTENT) (or
 *	VISIBILITY where the server's memory is not persistent), completing
 *	on the flush only, librpma's idiom for a durable write.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librpma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

#define RB_DESC_MAX 240 /* rdma_cm private data is 255 bytes at most (RC: 196) */
#define RB_MAX_DEPTH 128

enum rb_mem { RB_MEM_DAX = 1, RB_MEM_FILE, RB_MEM_DRAM };

static const char *const rb_mem_name[] = {
	[RB_MEM_DAX] = "fs-dax (MAP_SYNC)",
	[RB_MEM_FILE] = "file mapping (no DAX)",
	[RB_MEM_DRAM] = "DRAM (anonymous)",
};

static void rb_die(const char *what, int rc)
{
	fprintf(stderr, "rpma-bench: %s: %s\n", what,
		rc == RPMA_E_PROVIDER ? strerror(errno) : rpma_err_2str(rc));
	exit(1);
}

static double rb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct rpma_peer *rb_peer(const char *addr, enum rpma_util_ibv_context_type type)
{
	struct ibv_context *ctx;
	struct rpma_peer *peer;
	int rc = rpma_utils_get_ibv_context(addr, type, &ctx);

	if (rc)
		rb_die("rpma_utils_get_ibv_context", rc);
	rc = rpma_peer_new(ctx, &peer);
	if (rc)
		rb_die("rpma_peer_new", rc);
	return peer;
}

/* The server's memory: FILE mapped MAP_SYNC if it can be, else plainly. */
static void *rb_map(const char *path, size_t size, enum rb_mem *kind)
{
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size) || fallocate(fd, 0, 0, (off_t)size)) {
		fprintf(stderr, "rpma-bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	*kind = RB_MEM_DAX;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (p == MAP_FAILED) {
		*kind = RB_MEM_FILE;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (p == MAP_FAILED) {
		fprintf(stderr, "rpma-bench: mmap(%s, %zu): %s\n", path, size, strerror(errno));
		exit(1);
	}
	close(fd);
	memset(p, 0, size); /* every page there before the clients come */
	return p;
}

/* What a pinned registration of this memory does, for the record. */
static const char *rb_pinned_check(struct ibv_context *ctx, void *p, size_t size)
{
	static char why[128];
	struct ibv_pd *pd = ibv_alloc_pd(ctx);
	struct ibv_mr *mr;

	if (!pd)
		return "no PD to check with";
	mr = ibv_reg_mr(pd, p, size, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			IBV_ACCESS_REMOTE_WRITE);
	if (mr) {
		ibv_dereg_mr(mr);
		snprintf(why, sizeof(why), "a pinned registration works");
	} else {
		snprintf(why, sizeof(why), "a pinned ibv_reg_mr fails (%s), so librpma registers "
			 "on-demand paging", strerror(errno));
	}
	ibv_dealloc_pd(pd);
	return why;
}

static int rb_server(const char *addr, const char *port, const char *path, size_t size)
{
	struct rpma_peer *peer = rb_peer(addr, RPMA_UTIL_IBV_CONTEXT_LOCAL);
	int usage = RPMA_MR_USAGE_READ_SRC | RPMA_MR_USAGE_WRITE_DST |
		    RPMA_MR_USAGE_FLUSH_TYPE_VISIBILITY;
	struct rpma_peer_cfg *pcfg;
	struct rpma_mr_local *mr;
	struct ibv_context *ctx;
	struct rpma_ep *ep;
	uint8_t desc[RB_DESC_MAX];
	size_t mr_len, cfg_len;
	enum rb_mem kind;
	void *mem = rb_map(path, size, &kind);
	int rc;

	if (kind == RB_MEM_DAX)
		usage |= RPMA_MR_USAGE_FLUSH_TYPE_PERSISTENT;
	if (rpma_utils_get_ibv_context(addr, RPMA_UTIL_IBV_CONTEXT_LOCAL, &ctx) == 0)
		fprintf(stderr, "rpma-bench: %s on %s: %s\n", path, rb_mem_name[kind],
			rb_pinned_check(ctx, mem, size));
	rc = rpma_mr_reg(peer, mem, size, usage, &mr);
	if (rc) {
		fprintf(stderr, "rpma-bench: rpma_mr_reg of %s failed (%s): falling back to DRAM\n",
			path, rpma_err_2str(rc));
		munmap(mem, size);
		kind = RB_MEM_DRAM;
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			rb_die("mmap of DRAM", RPMA_E_NOMEM);
		usage &= ~RPMA_MR_USAGE_FLUSH_TYPE_PERSISTENT;
		rc = rpma_mr_reg(peer, mem, size, usage, &mr);
		if (rc)
			rb_die("rpma_mr_reg (DRAM)", rc);
	}
	rc = rpma_peer_cfg_new(&pcfg);
	if (!rc)
		rc = rpma_peer_cfg_set_direct_write_to_pmem(pcfg, kind == RB_MEM_DAX);
	if (rc)
		rb_die("rpma_peer_cfg", rc);
	desc[0] = (uint8_t)kind;
	rc = rpma_mr_get_descriptor_size(mr, &mr_len);
	if (!rc)
		rc = rpma_peer_cfg_get_descriptor_size(pcfg, &cfg_len);
	if (rc || 3 + mr_len + cfg_len > sizeof(desc))
		rb_die("descriptor sizes", rc ? rc : RPMA_E_INVAL);
	desc[1] = (uint8_t)mr_len;
	desc[2] = (uint8_t)cfg_len;
	if (rpma_mr_get_descriptor(mr, desc + 3) ||
	    rpma_peer_cfg_get_descriptor(pcfg, desc + 3 + mr_len))
		rb_die("descriptors", RPMA_E_INVAL);
	rc = rpma_ep_listen(peer, addr, port, &ep);
	if (rc)
		rb_die("rpma_ep_listen", rc);
	fprintf(stderr, "rpma-bench: serving %zu bytes of %s at %s:%s\n", size, rb_mem_name[kind],
		addr, port);
	for (;;) {
		struct rpma_conn_private_data pd = { desc, (uint8_t)(3 + mr_len + cfg_len) };
		enum rpma_conn_event ev = RPMA_CONN_UNDEFINED;
		struct rpma_conn_req *req;
		struct rpma_conn *conn;

		rc = rpma_ep_next_conn_req(ep, NULL, &req);
		if (rc)
			rb_die("rpma_ep_next_conn_req", rc);
		rc = rpma_conn_req_connect(&req, &pd, &conn);
		if (rc) {
			fprintf(stderr, "rpma-bench: rpma_conn_req_connect: %s\n", rpma_err_2str(rc));
			continue;
		}
		while (rpma_conn_next_event(conn, &ev) == 0 && ev == RPMA_CONN_ESTABLISHED)
			;
		rpma_conn_disconnect(conn);
		rpma_conn_delete(&conn);
	}
	return 0;
}

struct rb_client {
	const char *op;
	bool flush;
	size_t size;
	unsigned depth;
	double seconds;
};

static void rb_parse(int argc, char **argv, struct rb_client *c)
{
	c->op = "write";
	c->size = 65536;
	c->depth = 16;
	c->seconds = 5;
	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--flush")) {
			c->flush = true;
			continue;
		}
		if (!strcmp(argv[i], "--lat")) {
			c->depth = 1;
			continue;
		}
		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--op"))
			c->op = v;
		else if (!strcmp(argv[i], "--size"))
			c->size = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "--depth"))
			c->depth = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--time"))
			c->seconds = strtod(v, NULL);
		else
			goto usage;
		i++;
	}
	if ((!strcmp(c->op, "read") || !strcmp(c->op, "write")) && c->size && c->depth &&
	    c->depth <= RB_MAX_DEPTH && c->seconds > 0 && !(c->flush && !strcmp(c->op, "read")))
		return;
usage:
	fprintf(stderr, "usage: rpma-bench client ADDR PORT --op read|write [--flush] "
		"--size BYTES [--depth 1..%d|--lat] [--time SECONDS]\n", RB_MAX_DEPTH);
	exit(2);
}

/* One operation (a write and its flush are one): slot is its context. */
static int rb_post(struct rpma_conn *conn, const struct rb_client *c, struct rpma_mr_local *src,
		   struct rpma_mr_remote *dst, size_t positions, uint64_t n, unsigned slot,
		   enum rpma_flush_type ft)
{
	size_t roff = (size_t)(n % positions) * c->size, loff = (size_t)slot * c->size;
	const void *ctx = (const void *)(uintptr_t)(slot + 1);
	int rc;

	if (c->op[0] == 'r')
		return rpma_read(conn, src, loff, dst, roff, c->size, RPMA_F_COMPLETION_ALWAYS, ctx);
	if (!c->flush)
		return rpma_write(conn, dst, roff, src, loff, c->size, RPMA_F_COMPLETION_ALWAYS, ctx);
	rc = rpma_write(conn, dst, roff, src, loff, c->size, RPMA_F_COMPLETION_ON_ERROR, NULL);
	return rc ? rc : rpma_flush(conn, dst, roff, c->size, ft, RPMA_F_COMPLETION_ALWAYS, ctx);
}

static int rb_run(struct rpma_conn *conn, const struct rb_client *c, struct rpma_mr_local *src,
		  struct rpma_mr_remote *dst, size_t remote_size, enum rpma_flush_type ft,
		  double *mbs, double *lat_us)
{
	size_t positions = remote_size / c->size;
	double posted[RB_MAX_DEPTH], start = rb_now(), end, lat_sum = 0;
	unsigned free_slots[RB_MAX_DEPTH], nfree = 0, inflight = 0;
	uint64_t next = 0, done = 0;
	struct rpma_cq *cq;
	bool stopping = false;
	int rc = rpma_conn_get_cq(conn, &cq);

	if (rc)
		rb_die("rpma_conn_get_cq", rc);
	for (unsigned i = 0; i < c->depth; i++)
		free_slots[nfree++] = i;
	for (;;) {
		struct ibv_wc wc[RB_MAX_DEPTH];
		int got = 0;
		double now;

		while (!stopping && nfree) {
			unsigned slot = free_slots[--nfree];

			/* Before the post: on Soft-RoCE the doorbell system call
			 * can do much of the operation's work before it returns. */
			posted[slot] = rb_now();
			rc = rb_post(conn, c, src, dst, positions, next++, slot, ft);
			if (rc)
				rb_die("rpma_read/rpma_write/rpma_flush", rc);
			inflight++;
		}
		rc = rpma_cq_get_wc(cq, RB_MAX_DEPTH, wc, &got);
		if (rc == RPMA_E_NO_COMPLETION)
			continue;
		if (rc)
			rb_die("rpma_cq_get_wc", rc);
		now = rb_now();
		for (int i = 0; i < got; i++) {
			unsigned slot = (unsigned)(wc[i].wr_id - 1);

			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "rpma-bench: completion: %s\n",
					ibv_wc_status_str(wc[i].status));
				return 1;
			}
			lat_sum += now - posted[slot];
			free_slots[nfree++] = slot;
			inflight--;
			done++;
		}
		if (now - start >= c->seconds)
			stopping = true;
		if (stopping && !inflight)
			break;
	}
	end = rb_now();
	*mbs = (double)(done * c->size) / (end - start) / 1e6;
	*lat_us = done ? lat_sum / (double)done * 1e6 : 0;
	return 0;
}

static int rb_client(const char *addr, const char *port, int argc, char **argv)
{
	struct rpma_peer *peer = rb_peer(addr, RPMA_UTIL_IBV_CONTEXT_REMOTE);
	struct rpma_conn_private_data pd;
	struct rpma_conn_cfg *cfg;
	struct rpma_conn_req *req;
	struct rpma_conn *conn;
	struct rpma_mr_local *src;
	struct rpma_mr_remote *dst;
	struct rpma_peer_cfg *pcfg;
	enum rpma_conn_event ev;
	enum rpma_flush_type ft = RPMA_FLUSH_TYPE_VISIBILITY;
	struct rb_client c = { 0 };
	size_t remote_size;
	const uint8_t *d;
	double mbs, lat;
	void *buf;
	int rc;

	rb_parse(argc, argv, &c);
	buf = aligned_alloc(4096, (c.size * c.depth + 4095) / 4096 * 4096);
	if (!buf)
		rb_die("buffer", RPMA_E_NOMEM);
	memset(buf, 0x5a, c.size * c.depth);
	rc = rpma_mr_reg(peer, buf, c.size * c.depth,
			 RPMA_MR_USAGE_WRITE_SRC | RPMA_MR_USAGE_READ_DST, &src);
	if (rc)
		rb_die("rpma_mr_reg (local buffer)", rc);
	rc = rpma_conn_cfg_new(&cfg);
	if (!rc) /* emulated machines resolve and connect slowly */
		rc = rpma_conn_cfg_set_timeout(cfg, 10000);
	if (!rc)
		rc = rpma_conn_cfg_set_sq_size(cfg, 2 * c.depth + 2);
	if (!rc)
		rc = rpma_conn_cfg_set_cq_size(cfg, 2 * c.depth + 2);
	if (!rc)
		rc = rpma_conn_req_new(peer, addr, port, cfg, &req);
	if (rc)
		rb_die("rpma_conn_req_new", rc);
	rc = rpma_conn_req_connect(&req, NULL, &conn);
	if (rc)
		rb_die("rpma_conn_req_connect", rc);
	rc = rpma_conn_next_event(conn, &ev);
	if (rc)
		rb_die("rpma_conn_next_event", rc);
	if (ev != RPMA_CONN_ESTABLISHED) {
		fprintf(stderr, "rpma-bench: connecting to %s:%s: %s\n", addr, port,
			rpma_utils_conn_event_2str(ev));
		return 1;
	}
	rc = rpma_conn_get_private_data(conn, &pd);
	if (rc || pd.len < 3)
		rb_die("the server's private data", rc ? rc : RPMA_E_INVAL);
	d = pd.ptr;
	rc = rpma_mr_remote_from_descriptor(d + 3, d[1], &dst);
	if (!rc)
		rc = rpma_peer_cfg_from_descriptor(d + 3 + d[1], d[2], &pcfg);
	if (!rc)
		rc = rpma_conn_apply_remote_peer_cfg(conn, pcfg);
	if (!rc)
		rc = rpma_mr_remote_get_size(dst, &remote_size);
	if (rc)
		rb_die("the server's descriptors", rc);
	if (d[0] == RB_MEM_DAX)
		ft = RPMA_FLUSH_TYPE_PERSISTENT;
	if (remote_size < c.size)
		rb_die("--size is larger than the server's memory", RPMA_E_INVAL);
	rc = rb_run(conn, &c, src, dst, remote_size, ft, &mbs, &lat);
	printf("{\"op\":\"%s\",\"flush\":%s,\"size\":%zu,\"depth\":%u,\"memory\":\"%s\","
	       "\"mb_per_s\":%.3f,\"lat_us_avg\":%.3f}\n", c.op, c.flush ? "true" : "false",
	       c.size, c.depth, d[0] >= RB_MEM_DAX && d[0] <= RB_MEM_DRAM ? rb_mem_name[d[0]] : "?",
	       mbs, lat);
	rpma_conn_disconnect(conn);
	while (rpma_conn_next_event(conn, &ev) == 0 && ev != RPMA_CONN_CLOSED)
		;
	rpma_mr_remote_delete(&dst);
	rpma_peer_cfg_delete(&pcfg);
	rpma_conn_delete(&conn);
	rpma_conn_cfg_delete(&cfg);
	rpma_mr_dereg(&src);
	rpma_peer_delete(&peer);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "server"))
		return rb_server(argv[2], argv[3], argv[4], strtoull(argv[5], NULL, 0));
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return rb_client(argv[2], argv[3], argc - 4, argv + 4);
	fprintf(stderr, "usage: rpma-bench server ADDR PORT FILE SIZE\n"
		"       rpma-bench client ADDR PORT --op read|write [--flush] --size BYTES "
		"[--depth N|--lat] [--time SECONDS]\n");
	return 2;
}
