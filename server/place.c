/* SPDX-License-Identifier: MIT */
/*
 * place: a loopback self-test on each device, once. Two RC QPs of the
 * device, connected to each other through port 1, RDMA WRITE 64 bytes to
 * offset PLACE_OFF of an on-demand-paging region of two anonymous pages;
 * where the bytes land says how the device places a packet that starts
 * inside a page. Should the test not run (no ODP, no usable GID), the rule
 * it replaces decides: Soft-RoCE misplaces, others do not.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "place.h"
#include "proto.h"
#include "util.h"

#define PLACE_RXE_VENDOR_ID 0xffffff
#define PLACE_OFF 1000
#define PLACE_LEN 64
#define PLACE_WAIT_MS 2000
#define PLACE_DEVICES_MAX 16

struct place_probe {
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	struct ibv_mr *src_mr, *dst_mr;
	char *src, *dst;
	union ibv_gid gid;
	int gid_index;
	struct ibv_port_attr port;
};

static int place_is_rxe(struct ibv_context *verbs)
{
	struct ibv_device_attr attr;

	/* rxe devices may have any name (rdma link add NAME type rxe). */
	if (!strncmp(ibv_get_device_name(verbs->device), "rxe", 3))
		return 1;
	return ibv_query_device(verbs, &attr) == 0 && attr.vendor_id == PLACE_RXE_VENDOR_ID;
}

/* A RoCE v2 GID of an IPv4 address on port 1 (the loopback's path). */
static int place_find_gid(struct place_probe *p)
{
	for (int i = 0; i < p->port.gid_tbl_len; i++) {
		struct ibv_gid_entry e;

		if (ibv_query_gid_ex(p->verbs, 1, (uint32_t)i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 && e.gid.raw[10] == 0xff &&
		    e.gid.raw[11] == 0xff) {
			p->gid = e.gid;
			p->gid_index = i;
			return 0;
		}
	}
	return -ENOENT;
}

static int place_connect(struct place_probe *p, struct ibv_qp *qp, uint32_t peer)
{
	struct ibv_qp_attr a = { 0 };

	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			  IBV_QP_ACCESS_FLAGS))
		return -errno;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = p->port.active_mtu;
	a.dest_qp_num = peer;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.port_num = 1;
	a.ah_attr.dlid = p->port.lid;
	a.ah_attr.is_global = p->port.link_layer == IBV_LINK_LAYER_ETHERNET;
	a.ah_attr.grh.dgid = p->gid;
	a.ah_attr.grh.sgid_index = (uint8_t)p->gid_index;
	a.ah_attr.grh.hop_limit = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			  IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return -errno;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			  IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC))
		return -errno;
	return 0;
}

static int place_setup(struct place_probe *p, char *why, size_t len)
{
	struct ibv_qp_init_attr qa = { 0 };

	if (ibv_query_port(p->verbs, 1, &p->port))
		return snprintf(why, len, "ibv_query_port: %s", strerror(errno)), -errno;
	if (p->port.link_layer == IBV_LINK_LAYER_ETHERNET && place_find_gid(p))
		return snprintf(why, len, "no RoCE v2 IPv4 GID on port 1"), -ENOENT;
	p->pd = FAULT("place.alloc_pd", ENOMEM) ? NULL : ibv_alloc_pd(p->verbs);
	p->cq = p->pd && !FAULT("place.create_cq", ENOMEM)
		    ? ibv_create_cq(p->verbs, 4, NULL, NULL, 0)
		    : NULL;
	if (!p->cq)
		return snprintf(why, len, "PD or CQ: %s", strerror(errno)), -errno;
	qa.send_cq = qa.recv_cq = p->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = qa.cap.max_recv_sge = 1;
	for (int i = 0; i < 2; i++)
		if (!(p->qp[i] = ibv_create_qp(p->pd, &qa)))
			return snprintf(why, len, "ibv_create_qp: %s", strerror(errno)), -errno;
	if (place_connect(p, p->qp[0], p->qp[1]->qp_num) ||
	    place_connect(p, p->qp[1], p->qp[0]->qp_num))
		return snprintf(why, len, "connecting its QPs: %s", strerror(errno)), -errno;
	p->src = FAULT("place.src", ENOMEM) ? NULL : malloc(PLACE_LEN);
	p->dst = FAULT("place.dst", ENOMEM) ? MAP_FAILED
					    : mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p->src || p->dst == MAP_FAILED) {
		p->dst = NULL;
		return snprintf(why, len, "out of memory"), -ENOMEM;
	}
	memset(p->src, 0xa5, PLACE_LEN);
	memset(p->dst, 0, 2 * 4096);
	p->src_mr = FAULT("place.src_mr", ENOMEM) ? NULL : ibv_reg_mr(p->pd, p->src, PLACE_LEN, 0);
	p->dst_mr = p->src_mr && !FAULT("place.dst_mr", ENOMEM)
			? ibv_reg_mr(p->pd, p->dst, 2 * 4096,
				     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
					 IBV_ACCESS_ON_DEMAND)
			: NULL;
	if (!p->dst_mr)
		return snprintf(why, len, "ibv_reg_mr (ODP): %s", strerror(errno)), -errno;
	return 0;
}

static int place_write(struct place_probe *p, char *why, size_t len)
{
	struct ibv_sge sge = { (uintptr_t)p->src, PLACE_LEN, p->src_mr->lkey };
	struct ibv_send_wr wr = { 0 }, *bad;
	struct timespec t0;
	struct ibv_wc wc;
	int n;

	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)p->dst + PLACE_OFF;
	wr.wr.rdma.rkey = p->dst_mr->rkey;
	if (ibv_post_send(p->qp[0], &wr, &bad))
		return snprintf(why, len, "ibv_post_send: %s", strerror(errno)), -EIO;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((n = ibv_poll_cq(p->cq, 1, &wc)) == 0) {
		if (util_elapsed_ms(&t0) > PLACE_WAIT_MS)
			return snprintf(why, len, "no completion within %d ms", PLACE_WAIT_MS),
			       -ETIMEDOUT;
		usleep(100);
	}
	if (n < 0 || wc.status != IBV_WC_SUCCESS)
		return snprintf(why, len, "the WRITE failed: %s",
				n < 0 ? "ibv_poll_cq" : ibv_wc_status_str(wc.status)), -EIO;
	return 0;
}

static void place_teardown(struct place_probe *p)
{
	if (p->dst_mr)
		ibv_dereg_mr(p->dst_mr);
	if (p->src_mr)
		ibv_dereg_mr(p->src_mr);
	if (p->dst)
		munmap(p->dst, 2 * 4096);
	free(p->src);
	for (int i = 0; i < 2; i++)
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
	if (p->cq)
		ibv_destroy_cq(p->cq);
	if (p->pd)
		ibv_dealloc_pd(p->pd);
}

static int place_run(struct ibv_context *verbs, uint32_t *out)
{
	const char *dev = ibv_get_device_name(verbs->device);
	struct place_probe p = { .verbs = verbs };
	char want[PLACE_LEN], why[160] = "";
	int rc = place_setup(&p, why, sizeof(why));

	if (!rc)
		rc = place_write(&p, why, sizeof(why));
	if (!rc) {
		memset(want, 0xa5, sizeof(want));
		if (!memcmp(p.dst + PLACE_OFF, want, PLACE_LEN)) {
			*out = PROTO_PLACE_EXACT;
			LOG_INFO("%s: placement self-test: a WRITE to offset %d of an ODP page "
				 "landed there (exact placement)", dev, PLACE_OFF);
		} else {
			*out = PROTO_PLACE_PAGE;
			LOG_NOTICE("%s: placement self-test: a WRITE to offset %d of an ODP page "
				   "landed %s (page placement)", dev, PLACE_OFF,
				   !memcmp(p.dst, want, PLACE_LEN) ? "at its page's start"
								   : "elsewhere");
		}
	} else {
		*out = place_is_rxe(verbs) ? PROTO_PLACE_PAGE : PROTO_PLACE_EXACT;
		LOG_WARN("%s: placement self-test did not run (%s): %s placement assumed, as for "
			 "%s", dev, why, *out == PROTO_PLACE_PAGE ? "page" : "exact",
			 *out == PROTO_PLACE_PAGE ? "Soft-RoCE" : "a hardware device");
	}
	place_teardown(&p);
	return rc;
}

uint32_t place_of_odp(struct ibv_context *verbs)
{
	static struct {
		struct ibv_context *verbs;
		uint32_t place;
	} known[PLACE_DEVICES_MAX];
	static unsigned nknown;
	uint32_t place;

	if (!verbs)
		return PROTO_PLACE_EXACT;
	for (unsigned i = 0; i < nknown; i++)
		if (known[i].verbs == verbs)
			return known[i].place;
	place_run(verbs, &place);
	if (nknown < PLACE_DEVICES_MAX) {
		known[nknown].verbs = verbs;
		known[nknown++].place = place;
	}
	return place;
}
