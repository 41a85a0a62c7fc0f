/* SPDX-License-Identifier: MIT */
/*
 * daxprobe: checks, on the running kernel, the facts sealmr's design rests
 * on, so that a kernel that changes them fails the suite at once.
 *
 *   daxprobe mapsync PATH         MAP_SHARED_VALIDATE|MAP_SYNC of PATH
 *   daxprobe reg PATH pinned|odp  ibv_reg_mr of that mapping
 *   daxprobe rdma PATH ADDR PORT  librdmacm connection to ourselves on ADDR;
 *                                 the client WRITEs 1 MiB into PATH's MR and
 *                                 READs it back; then pread checks the file
 *
 * Prints "ok" or the errno's name, and exits 0 or the errno.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include "probe-watchdog.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define PROBE_LEN (1u << 20)


struct probe_priv {
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
};

/* No short period: a byte copied to the wrong place within a page shows. */
static char probe_byte(unsigned i)
{
	uint32_t x = i * 2654435761u;

	return (char)(x >> 24 ^ x >> 11);
}

static int report(int err)
{
	printf("%s\n", err ? strerrorname_np(err) : "ok");
	/* Out before a sanitizer's exit handler can end the process. */
	fflush(stdout);
	return err;
}

static void *map_file(const char *path, size_t len, int *err)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)len) || posix_fallocate(fd, 0, (off_t)len)) {
		*err = errno;
		return NULL;
	}
	/* Written zeroes, unless asked for unwritten extents: see cmd_rdma. */
	if (!getenv("DAXPROBE_UNWRITTEN")) {
		static char zero[65536];

		for (size_t o = 0; o < len; o += sizeof(zero))
			if (pwrite(fd, zero, sizeof(zero), (off_t)o) != sizeof(zero)) {
				*err = errno;
				return NULL;
			}
		fsync(fd);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 getenv("DAXPROBE_PLAIN") ? MAP_SHARED : MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	*err = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED && getenv("DAXPROBE_PREFAULT"))
		for (size_t o = 0; o < len; o += 4096)
			((volatile char *)p)[o] = ((volatile char *)p)[o];
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int cmd_reg(const char *path, int odp)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	int n = 0, err;
	void *p = map_file(path, PROBE_LEN, &err);

	if (!p)
		return report(err);
	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		err = ENODEV;
		goto out_free_list;
	}
	ctx = ibv_open_device(list[0]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		err = errno;
		goto out_close;
	}
	mr = ibv_reg_mr(pd, p, PROBE_LEN,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
				(odp ? IBV_ACCESS_ON_DEMAND : 0));
	err = mr ? 0 : errno;
	if (mr)
		ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);
out_close:
	if (ctx)
		ibv_close_device(ctx);
out_free_list:
	if (list)
		ibv_free_device_list(list);
	munmap(p, PROBE_LEN);
	return report(err);
}

static int server(const char *path, const char *addr, const char *port)
{
	struct rdma_addrinfo hints = { .ai_flags = RAI_PASSIVE, .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 4, .max_recv_wr = 4,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .sq_sig_all = 1 };
	struct rdma_cm_id *listen, *id;
	struct rdma_conn_param param = { .responder_resources = 4, .initiator_depth = 4 };
	struct probe_priv priv;
	struct ibv_mr *mr;
	struct ibv_wc wc;
	int err;
	void *p;

	probe_watchdog_arm("daxprobe", "ETIMEDOUT", ETIMEDOUT, "DAXPROBE_DEBUG");
	p = map_file(path, PROBE_LEN, &err);
	if (!p || rdma_getaddrinfo(addr, port, &hints, &res) ||
	    rdma_create_ep(&listen, res, NULL, &qa) || rdma_listen(listen, 1) ||
	    rdma_get_request(listen, &id)) {
		perror("daxprobe server");
		return 1;
	}
	mr = ibv_reg_mr(id->pd, p, PROBE_LEN,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
				(getenv("DAXPROBE_PINNED") ? 0 : IBV_ACCESS_ON_DEMAND));
	if (!mr) {
		perror("daxprobe server: ibv_reg_mr odp");
		return 1;
	}
	PROBE_STEP("server: mr registered");
	priv = (struct probe_priv){ (uintptr_t)p, mr->rkey, PROBE_LEN };
	param.private_data = &priv;
	param.private_data_len = sizeof(priv);
	/* A one-byte message from the client says it is done. */
	static char done[16];
	struct ibv_mr *dmr = rdma_reg_msgs(id, done, sizeof(done));

	if (!dmr || rdma_post_recv(id, NULL, done, sizeof(done), dmr) || rdma_accept(id, &param) ||
	    rdma_get_recv_comp(id, &wc) <= 0) {
		perror("daxprobe server: accept");
		return 1;
	}
	/* Exit without a disconnect: a synchronous rdma_disconnect waits for
	 * the peer's answer, and the peer is our parent in waitpid. */
	PROBE_STEP("server: done");
	return 0;
}

/* One connect attempt; everything it made is gone again when it fails. */
static struct rdma_cm_id *client_connect(const char *addr, const char *port)
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

static int client_transfer(struct rdma_cm_id *id, char *out, char *in)
{
	struct probe_priv priv;
	struct ibv_mr *mr, *imr;
	struct ibv_wc wc;
	/* DAXPROBE_SKEW: start the write that many bytes into the MR. */
	unsigned skew = getenv("DAXPROBE_SKEW") ? (unsigned)atoi(getenv("DAXPROBE_SKEW")) : 0;
	int rc = 1;

	memcpy(&priv, id->event->param.conn.private_data, sizeof(priv));
	mr = ibv_reg_mr(id->pd, out, PROBE_LEN, IBV_ACCESS_LOCAL_WRITE);
	imr = ibv_reg_mr(id->pd, in, PROBE_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!mr || !imr) {
		perror("daxprobe client: ibv_reg_mr");
		goto out_dereg;
	}
	if (skew)
		memset(out, 0, skew);
	if (rdma_post_write(id, NULL, out + skew, PROBE_LEN - skew, mr, 0, priv.addr + skew,
			    priv.rkey) ||
	    rdma_get_send_comp(id, &wc) <= 0 || wc.status) {
		fprintf(stderr, "daxprobe client: RDMA WRITE failed\n");
		goto out_dereg;
	}
	if (rdma_post_read(id, NULL, in, PROBE_LEN, imr, 0, priv.addr, priv.rkey) ||
	    rdma_get_send_comp(id, &wc) <= 0 || wc.status) {
		fprintf(stderr, "daxprobe client: RDMA READ failed\n");
		goto out_dereg;
	}
	PROBE_STEP("client: write+read done");
	if (memcmp(in, out, PROBE_LEN)) {
		fprintf(stderr, "daxprobe client: READ returned other bytes than WRITE sent\n");
		goto out_dereg;
	}
	/* The one-byte "done" the server waits for. */
	if (rdma_post_send(id, NULL, out, 1, mr, 0) == 0)
		rdma_get_send_comp(id, &wc);
	rc = 0;
out_dereg:
	if (imr)
		ibv_dereg_mr(imr);
	if (mr)
		ibv_dereg_mr(mr);
	return rc;
}

static int client(const char *addr, const char *port)
{
	char *out = malloc(PROBE_LEN), *in = malloc(PROBE_LEN);
	struct rdma_cm_id *id = NULL;
	int rc = 1;

	if (!out || !in)
		goto out_free;
	for (unsigned i = 0; i < PROBE_LEN; i++)
		out[i] = probe_byte(i);
	for (int tries = 0; !(id = client_connect(addr, port)); tries++) {
		if (tries == 50) {
			perror("daxprobe client: connect");
			goto out_free;
		}
		usleep(100000); /* the server may not listen yet */
	}
	PROBE_STEP("client: connected");
	rc = client_transfer(id, out, in);
	/* No rdma_disconnect: a synchronous one waits for the server, which
	 * exits without answering; destroying the endpoint is enough. */
	rdma_destroy_ep(id);
out_free:
	free(out);
	free(in);
	return rc;
}

/* The file must hold what the client wrote, read back without RDMA. */
static int check_file(const char *path)
{
	char *got = malloc(PROBE_LEN);
	int fd = open(path, O_RDONLY), err = 0;

	if (!got || fd < 0 || pread(fd, got, PROBE_LEN, 0) != PROBE_LEN)
		err = errno ? errno : EIO;
	for (unsigned i = 0; !err && i < PROBE_LEN; i++) {
		if (got[i] != probe_byte(i)) {
			fprintf(stderr, "daxprobe: %s differs from what was written at byte %u: %02x, want %02x\n",
				path, i, (unsigned char)got[i], (unsigned char)probe_byte(i));
			err = EILSEQ;
		}
	}
	if (fd >= 0)
		close(fd);
	free(got);
	return err;
}

static int cmd_rdma(const char *path, const char *addr, const char *port)
{
	pid_t pid = fork();
	int st, crc;

	if (pid == 0)
		_exit(server(path, addr, port));
	probe_wd.child = pid;
	probe_watchdog_arm("daxprobe", "ETIMEDOUT", ETIMEDOUT, "DAXPROBE_DEBUG");
	crc = client(addr, port);
	PROBE_STEP("client: finished");
	if (crc)
		kill(pid, SIGKILL); /* it would wait for our last message forever */
	waitpid(pid, &st, 0);
	PROBE_STEP("server reaped");
	if (crc || !WIFEXITED(st) || WEXITSTATUS(st))
		return report(EIO);
	return report(check_file(path));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "mapsync")) {
		int err;
		void *p = map_file(argv[2], PROBE_LEN, &err);

		return report(p ? 0 : err);
	}
	if (argc == 4 && !strcmp(argv[1], "reg"))
		return cmd_reg(argv[2], !strcmp(argv[3], "odp"));
	if (argc == 5 && !strcmp(argv[1], "rdma"))
		return cmd_rdma(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: daxprobe mapsync PATH | reg PATH pinned|odp | rdma PATH ADDR PORT\n");
	return 2;
}
