/* SPDX-License-Identifier: MIT */
/*
 * regtime: what one grant's registration costs on this device, the floor
 * under sealmr's open latency (bench/run reports a grant's open against the
 * round trip plus this).
 *
 *   regtime DEVICE FILE SIZE [N]
 *
 * Maps SIZE bytes of FILE as sealmrd maps an fs-dax export
 * (MAP_SHARED_VALIDATE|MAP_SYNC, falling back to MAP_SHARED for a file
 * system without DAX), touches every page so that they are present as they
 * are on a sealed export that has served, then registers the range N times
 * (default 20) with the daemon's access flags and ODP, deregistering each,
 * and prints one JSON object: the medians and minimums of both in
 * microseconds.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "util.h"

#define REGTIME_MAX_N 1000

static double regtime_now_us(void)
{
	return util_now_ns() / 1e3;
}

static int regtime_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double regtime_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), regtime_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct ibv_context *regtime_open(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int n = 0;

	list = ibv_get_device_list(&n);
	for (int i = 0; list && i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!ctx)
		fprintf(stderr, "regtime: no RDMA device %s to open (ibv_devices lists them)\n",
			name);
	return ctx;
}

int main(int argc, char **argv)
{
	const int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC |
			   IBV_ACCESS_ON_DEMAND;
	static double reg[REGTIME_MAX_N], dereg[REGTIME_MAX_N];
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	const char *mapping = "MAP_SYNC";
	size_t size;
	int fd, n, rc = 1;
	double rmin = 1e30, dmin = 1e30;
	char *p;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: regtime DEVICE FILE SIZE [N]\n");
		return 2;
	}
	size = strtoull(argv[3], NULL, 0);
	n = argc == 5 ? atoi(argv[4]) : 20;
	if (size == 0 || n < 1 || n > REGTIME_MAX_N) {
		fprintf(stderr, "regtime: SIZE must be > 0 and N 1..%d\n", REGTIME_MAX_N);
		return 2;
	}
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "regtime: open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (p == MAP_FAILED && errno == EOPNOTSUPP) {
		mapping = "MAP_SHARED";
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (p == MAP_FAILED) {
		fprintf(stderr, "regtime: mmap %zu bytes of %s: %s (is the file that large?)\n",
			size, argv[2], strerror(errno));
		goto out_close_fd;
	}
	for (size_t off = 0; off < size; off += 4096)
		p[off] = p[off];
	ctx = regtime_open(argv[1]);
	if (!ctx)
		goto out_unmap;
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		fprintf(stderr, "regtime: ibv_alloc_pd: %s\n", strerror(errno));
		goto out_close_dev;
	}
	for (int i = 0; i < n; i++) {
		double t0 = regtime_now_us(), t1, t2;
		struct ibv_mr *mr = ibv_reg_mr(pd, p, size, access);

		t1 = regtime_now_us();
		if (!mr) {
			fprintf(stderr, "regtime: ODP ibv_reg_mr of %zu bytes: %s\n", size,
				strerror(errno));
			goto out_dealloc;
		}
		ibv_dereg_mr(mr);
		t2 = regtime_now_us();
		reg[i] = t1 - t0;
		dereg[i] = t2 - t1;
		rmin = reg[i] < rmin ? reg[i] : rmin;
		dmin = dereg[i] < dmin ? dereg[i] : dmin;
	}
	printf("{\"size\":%zu,\"n\":%d,\"mapping\":\"%s\",\"reg_us_p50\":%.1f,\"reg_us_min\":%.1f,"
	       "\"dereg_us_p50\":%.1f,\"dereg_us_min\":%.1f}\n",
	       size, n, mapping, regtime_median(reg, n), rmin, regtime_median(dereg, n), dmin);
	rc = 0;
out_dealloc:
	ibv_dealloc_pd(pd);
out_close_dev:
	ibv_close_device(ctx);
out_unmap:
	munmap(p, size);
out_close_fd:
	close(fd);
	return rc;
}
