/* SPDX-License-Identifier: MIT */
/*
 * mwprobe: what rxe's type 2 memory windows enforce on the running kernel.
 * sealmr's grants are memory regions of their own rather than windows on
 * one region per export because, on rxe (7.2), a window isolates nothing;
 * these say so while it is true, and fail the suite once a kernel fixes it.
 *
 *   mwprobe bounds ADDR PORT    WRITE through a 64 KiB window to a place
 *                               past it but inside its 8 MiB MR: "landed"
 *                               (no bounds check) or "refused"
 *   mwprobe crosspd ADDR PORT   bind a window of the QP's PD to an MR of
 *                               another PD: "bound" (no PD check) or
 *                               "refused"
 *   mwprobe bindtime ADDR PORT  median bind and invalidate times of a window
 *                               over a whole MR of 4 MiB and of 256 MiB, on
 *                               stderr; "ok"
 *
 * Each connects to itself through librdmacm on ADDR:PORT, as daxprobe does:
 * a forked child accepts and owns the MR and the window (a type 2 window
 * answers only on the QP it was bound through), the parent WRITEs. A pipe
 * carries the window's key to the parent, since a failed bind takes the
 * child's QP down with it, and the parent's "look now" back; the child's
 * exit status says what the MR holds where the WRITE aimed.
 *
 * Prints the verdict and exits 0, or prints "error", says why on stderr and
 * exits 1.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include "probe-watchdog.h"

#define MR_LEN (8u << 20)
#define WIN_LEN (64u << 10)
#define PAYLOAD_LEN 4096u
/* Where bounds aims: nearly the whole MR past the window's end. */
#define FAR_OFF (MR_LEN - PAYLOAD_LEN)
#define BIND_ROUNDS 200

enum probe_mode { MODE_BOUNDS, MODE_CROSSPD, MODE_BINDTIME, MODE_MAX };

static const char *const mode_names[MODE_MAX] = {
	[MODE_BOUNDS] = "bounds",
	[MODE_CROSSPD] = "crosspd",
	[MODE_BINDTIME] = "bindtime",
};

/* The child's exit status: what the MR holds where the parent aimed. */
enum child_exit { CHILD_WRITTEN = 0, CHILD_ERROR = 1, CHILD_UNTOUCHED = 3 };

/* Child to parent: the bind's completion status and, if it bound, where. */
struct probe_win {
	int wc_status;
	uint32_t rkey;
	uint64_t addr;
};


/* No short period: a byte copied to the wrong place within a page shows. */
static char probe_byte(unsigned i)
{
	uint32_t x = i * 2654435761u;

	return (char)(x >> 24 ^ x >> 11);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Busy-polls: bindtime measures the bind itself, and a completion
 * channel's wake-up would be most of what it measured. */
static int poll_one(struct ibv_cq *cq, struct ibv_wc *wc)
{
	int n;

	while ((n = ibv_poll_cq(cq, 1, wc)) == 0)
		;
	if (n < 0) {
		fprintf(stderr, "mwprobe: ibv_poll_cq: %s\n", strerror(-n));
		return -EIO;
	}
	return 0;
}

/* Binds mw to [addr, addr + len) of mr through id's QP. Returns the
 * completion's status, or -errno when there is none. */
static int bind_window(struct rdma_cm_id *id, struct ibv_mw *mw, struct ibv_mr *mr,
		       uint64_t addr, uint64_t len)
{
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_BIND_MW,
		.send_flags = IBV_SEND_SIGNALED,
		.bind_mw = { .mw = mw,
			     .rkey = ibv_inc_rkey(mw->rkey),
			     .bind_info = { .mr = mr,
					    .addr = addr,
					    .length = len,
					    .mw_access_flags = IBV_ACCESS_REMOTE_WRITE } },
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	int err = ibv_post_send(id->qp, &wr, &bad);

	if (err) {
		fprintf(stderr,
			"mwprobe: ibv_post_send(BIND_MW, addr=%#" PRIx64 ", len=%" PRIu64 "): %s\n",
			addr, len, strerror(err));
		return -err;
	}
	err = poll_one(id->send_cq, &wc);
	if (err)
		return err;
	/* A bind posted as a work request leaves the library's copy of the
	 * key alone, and rxe finds the window by the key it has now. */
	if (wc.status == IBV_WC_SUCCESS)
		mw->rkey = wr.bind_mw.rkey;
	return wc.status;
}

static int invalidate_window(struct rdma_cm_id *id, struct ibv_mw *mw)
{
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_LOCAL_INV,
		.send_flags = IBV_SEND_SIGNALED,
		.invalidate_rkey = mw->rkey,
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	int err = ibv_post_send(id->qp, &wr, &bad);

	if (err) {
		fprintf(stderr, "mwprobe: ibv_post_send(LOCAL_INV, rkey=%#x): %s\n", mw->rkey,
			strerror(err));
		return -err;
	}
	err = poll_one(id->send_cq, &wc);
	if (err)
		return err;
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "mwprobe: invalidating the window: %s\n",
			ibv_wc_status_str(wc.status));
		return -EIO;
	}
	return 0;
}

static struct ibv_mw *alloc_window(struct ibv_pd *pd)
{
	struct ibv_mw *mw = ibv_alloc_mw(pd, IBV_MW_TYPE_2);

	if (!mw)
		fprintf(stderr, "mwprobe: ibv_alloc_mw(type 2): %s (ibv_devinfo -v lists "
			"MEM_WINDOW_TYPE_2B when the device has them)\n", strerror(errno));
	return mw;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "mwprobe: mmap(len=%zu): %s\n", len, strerror(errno));
		return NULL;
	}
	return p;
}

static struct ibv_mr *reg_bindable(struct ibv_pd *pd, void *p, size_t len)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, p, len,
				       IBV_ACCESS_MW_BIND | IBV_ACCESS_REMOTE_WRITE |
					       IBV_ACCESS_LOCAL_WRITE);

	if (!mr)
		fprintf(stderr, "mwprobe: ibv_reg_mr(addr=%p, len=%zu, MW_BIND): %s\n", p, len,
			strerror(errno));
	return mr;
}

/* What the MR holds at p: the parent's bytes, the zeroes it started with,
 * or a mix, which neither verdict explains. */
static int mem_state(const char *p, size_t len)
{
	size_t same = 0, zero = 0;

	for (size_t i = 0; i < len; i++) {
		same += p[i] == probe_byte((unsigned)i);
		zero += p[i] == 0;
	}
	if (same == len)
		return CHILD_WRITTEN;
	if (zero == len)
		return CHILD_UNTOUCHED;
	fprintf(stderr, "mwprobe: of the %zu bytes the WRITE aimed at, %zu are its own, %zu zero\n",
		len, same, zero);
	return CHILD_ERROR;
}

/* bounds and crosspd, in the child: an 8 MiB MR with a 64 KiB window at
 * its start, the key to the parent, then what landed where it aimed. */
static int child_window(enum probe_mode mode, struct rdma_cm_id *id, int to_parent,
			int from_parent)
{
	struct probe_win win = { 0 };
	struct ibv_pd *pd = id->pd;
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	int rc = CHILD_ERROR;
	char *buf, go;

	buf = map_anon(MR_LEN);
	if (!buf)
		return CHILD_ERROR;
	/* The MR on a PD of its own; the window stays on the QP's, as C10-72
	 * requires and rxe checks, so that only the MR's PD differs. */
	if (mode == MODE_CROSSPD && !(pd = ibv_alloc_pd(id->verbs))) {
		fprintf(stderr, "mwprobe: ibv_alloc_pd: %s\n", strerror(errno));
		goto out_unmap;
	}
	mr = reg_bindable(pd, buf, MR_LEN);
	if (!mr)
		goto out_dealloc_pd;
	mw = alloc_window(id->pd);
	if (!mw)
		goto out_dereg_mr;
	win.wc_status = bind_window(id, mw, mr, (uintptr_t)buf, WIN_LEN);
	if (win.wc_status < 0)
		goto out_dealloc_mw;
	win.rkey = mw->rkey;
	win.addr = (uintptr_t)buf;
	PROBE_STEP("child: bind done");
	if (write(to_parent, &win, sizeof(win)) != sizeof(win)) {
		fprintf(stderr, "mwprobe: telling the parent the window: %s\n", strerror(errno));
		goto out_dealloc_mw;
	}
	/* A failed bind left nothing for the parent to write through. */
	if (win.wc_status != IBV_WC_SUCCESS) {
		rc = CHILD_UNTOUCHED;
		goto out_dealloc_mw;
	}
	if (read(from_parent, &go, 1) != 1) {
		fprintf(stderr, "mwprobe: the parent ended before its WRITE\n");
		goto out_dealloc_mw;
	}
	rc = mem_state(buf + (mode == MODE_BOUNDS ? FAR_OFF : 0), PAYLOAD_LEN);
out_dealloc_mw:
	/* Before the MR: rxe refuses to deregister an MR a window is bound to. */
	ibv_dealloc_mw(mw);
out_dereg_mr:
	ibv_dereg_mr(mr);
out_dealloc_pd:
	if (pd != id->pd)
		ibv_dealloc_pd(pd);
out_unmap:
	munmap(buf, MR_LEN);
	return rc;
}

/* One MR of len bytes, a window over all of it bound and invalidated
 * BIND_ROUNDS times; the medians on stderr. */
static int bind_time(struct rdma_cm_id *id, size_t len)
{
	static double bind_us[BIND_ROUNDS], inv_us[BIND_ROUNDS];
	struct ibv_mr *mr;
	struct ibv_mw *mw;
	int rc = -1, st;
	char *buf;

	buf = map_anon(len);
	if (!buf)
		return -1;
	mr = reg_bindable(id->pd, buf, len);
	if (!mr)
		goto out_unmap;
	mw = alloc_window(id->pd);
	if (!mw)
		goto out_dereg_mr;
	for (int i = 0; i < BIND_ROUNDS; i++) {
		double t0 = now_us(), t1, t2;

		st = bind_window(id, mw, mr, (uintptr_t)buf, len);
		t1 = now_us();
		if (st) {
			if (st > 0)
				fprintf(stderr, "mwprobe: bind %d of a window over %zu MiB: %s\n",
					i, len >> 20, ibv_wc_status_str(st));
			goto out_dealloc_mw;
		}
		if (invalidate_window(id, mw))
			goto out_dealloc_mw;
		t2 = now_us();
		bind_us[i] = t1 - t0;
		inv_us[i] = t2 - t1;
	}
	fprintf(stderr,
		"mwprobe: window over a %zu MiB MR: bind %.1f us, invalidate %.1f us (medians of %d)\n",
		len >> 20, median(bind_us, BIND_ROUNDS), median(inv_us, BIND_ROUNDS), BIND_ROUNDS);
	rc = 0;
out_dealloc_mw:
	ibv_dealloc_mw(mw);
out_dereg_mr:
	ibv_dereg_mr(mr);
out_unmap:
	munmap(buf, len);
	return rc;
}

static int child(enum probe_mode mode, const char *addr, const char *port, int to_parent,
		 int from_parent)
{
	struct rdma_addrinfo hints = { .ai_flags = RAI_PASSIVE, .ai_port_space = RDMA_PS_TCP };
	struct rdma_addrinfo *res;
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 4, .max_recv_wr = 4,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .sq_sig_all = 1 };
	struct rdma_conn_param param = { .responder_resources = 4, .initiator_depth = 4 };
	struct rdma_cm_id *listen, *id;
	int rc = CHILD_ERROR;

	probe_watchdog_arm("mwprobe", "error", CHILD_ERROR, "MWPROBE_DEBUG");
	if (rdma_getaddrinfo(addr, port, &hints, &res)) {
		fprintf(stderr, "mwprobe: rdma_getaddrinfo(%s, %s): %s\n", addr, port,
			strerror(errno));
		return CHILD_ERROR;
	}
	if (rdma_create_ep(&listen, res, NULL, &qa)) {
		fprintf(stderr, "mwprobe: rdma_create_ep(%s:%s): %s\n", addr, port,
			strerror(errno));
		goto out_free_res;
	}
	if (rdma_listen(listen, 1) || rdma_get_request(listen, &id)) {
		fprintf(stderr, "mwprobe: listening on %s:%s: %s\n", addr, port, strerror(errno));
		goto out_destroy_listen;
	}
	/* Accepted before the MRs: pinning 256 MiB must not time the connect out. */
	if (rdma_accept(id, &param)) {
		fprintf(stderr, "mwprobe: rdma_accept: %s\n", strerror(errno));
		goto out_destroy_id;
	}
	PROBE_STEP("child: accepted");
	if (mode == MODE_BINDTIME)
		rc = bind_time(id, 4u << 20) || bind_time(id, 256u << 20) ? CHILD_ERROR : 0;
	else
		rc = child_window(mode, id, to_parent, from_parent);
	PROBE_STEP("child: done");
	/* No rdma_disconnect: a synchronous one waits for the parent, which
	 * waits for us in waitpid. */
out_destroy_id:
	rdma_destroy_ep(id);
out_destroy_listen:
	rdma_destroy_ep(listen);
out_free_res:
	rdma_freeaddrinfo(res);
	return rc;
}

/* One connect attempt; everything it made is gone again when it fails. */
static struct rdma_cm_id *parent_connect(const char *addr, const char *port)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 4, .max_recv_wr = 4,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .sq_sig_all = 1 };
	struct rdma_conn_param param = { .responder_resources = 4, .initiator_depth = 4,
					 .retry_count = 7, .rnr_retry_count = 6 };
	struct rdma_cm_id *id = NULL;

	if (rdma_getaddrinfo(addr, port, &hints, &res))
		return NULL;
	if (rdma_create_ep(&id, res, NULL, &qa))
		id = NULL;
	rdma_freeaddrinfo(res);
	if (id && rdma_connect(id, &param)) {
		rdma_destroy_ep(id);
		id = NULL;
	}
	return id;
}

/* PAYLOAD_LEN bytes of probe_byte to raddr through rkey. Returns the
 * completion's status, or -1 when there is none. */
static int write_through(struct rdma_cm_id *id, uint64_t raddr, uint32_t rkey)
{
	char *out = malloc(PAYLOAD_LEN);
	struct ibv_mr *mr;
	struct ibv_wc wc;
	int st = -1;

	if (!out) {
		fprintf(stderr, "mwprobe: malloc(%u): %s\n", PAYLOAD_LEN, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < PAYLOAD_LEN; i++)
		out[i] = probe_byte(i);
	mr = ibv_reg_mr(id->pd, out, PAYLOAD_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!mr) {
		fprintf(stderr, "mwprobe: ibv_reg_mr(len=%u): %s\n", PAYLOAD_LEN, strerror(errno));
		goto out_free;
	}
	if (rdma_post_write(id, NULL, out, PAYLOAD_LEN, mr, 0, raddr, rkey)) {
		fprintf(stderr, "mwprobe: rdma_post_write(raddr=%#" PRIx64 ", rkey=%#x): %s\n",
			raddr, rkey, strerror(errno));
		goto out_dereg_mr;
	}
	if (rdma_get_send_comp(id, &wc) <= 0) {
		fprintf(stderr, "mwprobe: rdma_get_send_comp: %s\n", strerror(errno));
		goto out_dereg_mr;
	}
	st = wc.status;
	PROBE_STEP("parent: write done");
out_dereg_mr:
	ibv_dereg_mr(mr);
out_free:
	free(out);
	return st;
}

/* The child's exit status, or -1 if it did not exit by itself. */
static int reap(void)
{
	int st;

	if (waitpid(probe_wd.child, &st, 0) != probe_wd.child)
		return -1;
	probe_wd.child = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *wc_str(int st)
{
	return st < 0 ? "no completion" : ibv_wc_status_str(st);
}

static const char *mem_str(int mem)
{
	return mem == CHILD_WRITTEN ? "holds its bytes" : mem == CHILD_UNTOUCHED ? "is untouched"
									       : "is unknown";
}

/* bounds and crosspd, in the parent: the verdict, or NULL with why on stderr. */
static const char *parent_window(enum probe_mode mode, struct rdma_cm_id *id, int from_child,
				 int to_child)
{
	struct probe_win win;
	int wst, mem;

	if (read(from_child, &win, sizeof(win)) != sizeof(win)) {
		fprintf(stderr, "mwprobe: the child ended before it bound a window (why: above)\n");
		return NULL;
	}
	if (win.wc_status != IBV_WC_SUCCESS) {
		reap();
		fprintf(stderr, "mwprobe: binding a %u KiB window on an MR of %s PD: %s\n",
			WIN_LEN >> 10, mode == MODE_CROSSPD ? "another" : "its own",
			ibv_wc_status_str(win.wc_status));
		/* Any error completion: rxe 7.2 completes the bind it refuses
		 * for the QP's PD (C10-72) with WR_FLUSH_ERR, not MW_BIND_ERR. */
		return mode == MODE_CROSSPD ? "refused" : NULL;
	}
	wst = write_through(id, win.addr + (mode == MODE_BOUNDS ? FAR_OFF : 0), win.rkey);
	if (write(to_child, "", 1) != 1) {
		fprintf(stderr, "mwprobe: telling the child to look: %s\n", strerror(errno));
		return NULL;
	}
	mem = reap();
	if (mode == MODE_CROSSPD) {
		fprintf(stderr,
			"mwprobe: a WRITE through the window completed with %s; the other PD's MR %s\n",
			wc_str(wst), mem_str(mem));
		return "bound";
	}
	if (wst == IBV_WC_SUCCESS && mem == CHILD_WRITTEN)
		return "landed";
	if (wst == IBV_WC_REM_ACCESS_ERR && mem == CHILD_UNTOUCHED)
		return "refused";
	fprintf(stderr,
		"mwprobe: a WRITE %u KiB past the window completed with %s, and the MR there %s\n",
		(FAR_OFF - WIN_LEN) >> 10, wc_str(wst), mem_str(mem));
	return NULL;
}

static const char *parent(enum probe_mode mode, const char *addr, const char *port,
			  int from_child, int to_child)
{
	struct rdma_cm_id *id;
	const char *verdict = NULL;

	for (int tries = 0; !(id = parent_connect(addr, port)); tries++) {
		if (tries == 50) {
			fprintf(stderr, "mwprobe: connecting to %s:%s: %s\n", addr, port,
				strerror(errno));
			return NULL;
		}
		usleep(100000); /* the child may not listen yet */
	}
	PROBE_STEP("parent: connected");
	if (mode == MODE_BINDTIME) {
		if (reap() == 0)
			verdict = "ok";
	} else {
		verdict = parent_window(mode, id, from_child, to_child);
	}
	/* No rdma_disconnect: the child is gone or going without answering;
	 * destroying the endpoint is enough. */
	rdma_destroy_ep(id);
	return verdict;
}

static int run(enum probe_mode mode, const char *addr, const char *port)
{
	int up[2], down[2]; /* child to parent, parent to child */
	const char *verdict = NULL;

	if (pipe(up) || pipe(down)) {
		fprintf(stderr, "mwprobe: pipe: %s\n", strerror(errno));
		goto out_report;
	}
	probe_wd.child = fork();
	if (probe_wd.child < 0) {
		fprintf(stderr, "mwprobe: fork: %s\n", strerror(errno));
		goto out_report;
	}
	if (probe_wd.child == 0) {
		close(up[0]);
		close(down[1]);
		_exit(child(mode, addr, port, up[1], down[0]));
	}
	/* Our copies closed, a child that dies is an end of file. */
	close(up[1]);
	close(down[0]);
	/* and a write to it an error, not the end of the verdict. */
	signal(SIGPIPE, SIG_IGN);
	probe_watchdog_arm("mwprobe", "error", CHILD_ERROR, "MWPROBE_DEBUG");
	verdict = parent(mode, addr, port, up[0], down[1]);
	if (probe_wd.child > 0) {
		kill(probe_wd.child, SIGKILL); /* it would wait for us forever */
		reap();
	}
	close(up[0]);
	close(down[1]);
out_report:
	printf("%s\n", verdict ? verdict : "error");
	/* Out before a sanitizer's exit handler can end the process. */
	fflush(stdout);
	return !verdict;
}

int main(int argc, char **argv)
{
	for (int m = 0; argc == 4 && m < MODE_MAX; m++)
		if (!strcmp(argv[1], mode_names[m]))
			return run(m, argv[2], argv[3]);
	fprintf(stderr, "usage: mwprobe bounds|crosspd|bindtime ADDR PORT\n");
	return 2;
}
