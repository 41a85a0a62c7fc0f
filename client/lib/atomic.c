/* SPDX-License-Identifier: MIT */
/*
 * atomic: 8-byte remote atomics on a grant, one at a time. Compare-and-swap
 * and fetch-and-add return the old value into an 8-byte slot of the control
 * registration; atomic write goes through the extended QP API when the
 * library and the device have it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sealmr-internal.h"

#define ATOMIC_WAIT_MS 1000

void atomic_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc)
{
	c->atomic_busy = false;
	if (wc->status == IBV_WC_SUCCESS)
		c->atomic_status = 0;
	else if (wc->status == IBV_WC_WR_FLUSH_ERR)
		c->atomic_status = -ENOTCONN;
	else
		c->atomic_status = xfer_wc_err(c, wc, c->sync_grant_id);
}

/* Checks shared by every atomic; waits for room on the send queue. */
static int atomic_prepare(struct sealmr_grant *g, uint64_t off, const char *what)
{
	struct sealmr_conn *c = g->conn;
	int rc = grant_check(g, off, 8, true);

	if (rc)
		return rc;
	if ((g->g.addr + off) % 8)
		return conn_err(c, -EINVAL, "%s at offset %llu of grant %llu: not 8-byte aligned",
				what, (unsigned long long)off, (unsigned long long)g->g.grant_id);
	while ((c->atomic_busy || c->sq_used >= c->sq_size) && c->state == CONN_ESTABLISHED)
		conn_progress(c, ATOMIC_WAIT_MS);
	if (c->state != CONN_ESTABLISHED)
		return conn_not_connected(c);
	c->sync_grant_id = g->g.grant_id;
	return 0;
}

static int atomic_wait(struct sealmr_conn *c, uint64_t *old)
{
	int rc;

	while (c->atomic_busy)
		conn_progress(c, ATOMIC_WAIT_MS);
	rc = c->atomic_status;
	if (rc == -ENOTCONN)
		rc = conn_not_connected(c);
	if (rc == 0 && old)
		memcpy(old, c->ctrl_buf + CTRL_ATOMIC_OFF, sizeof(*old));
	conn_run_revoke_cbs(c);
	return rc;
}

static int atomic_run(struct sealmr_grant *g, uint64_t off, enum ibv_wr_opcode op,
		      uint64_t compare_add, uint64_t swap, uint64_t *old)
{
	struct sealmr_conn *c = g->conn;
	const char *what = op == IBV_WR_ATOMIC_CMP_AND_SWP ? "compare-and-swap" : "fetch-and-add";
	struct ibv_sge sge;
	struct ibv_send_wr wr = { 0 }, *bad;
	int rc = atomic_prepare(g, off, what);

	if (rc) {
		conn_run_revoke_cbs(c);
		return rc;
	}
	sge.addr = (uintptr_t)(c->ctrl_buf + CTRL_ATOMIC_OFF);
	sge.length = 8;
	sge.lkey = c->ctrl_mr->lkey;
	wr.wr_id = WRID(WRID_ATOMIC, 0);
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.atomic.remote_addr = g->g.addr + off;
	wr.wr.atomic.compare_add = compare_add;
	wr.wr.atomic.swap = swap;
	wr.wr.atomic.rkey = g->g.rkey;
	rc = ibv_post_send(c->qp, &wr, &bad);
	if (rc)
		return conn_err(c, -rc, "ibv_post_send(%s, raddr=0x%llx): %s", what,
				(unsigned long long)wr.wr.atomic.remote_addr, strerror(rc));
	c->sq_used++;
	c->atomic_busy = true;
	return atomic_wait(c, old);
}

int sealmr_cas(struct sealmr_grant *g, uint64_t off, uint64_t expected, uint64_t desired,
	       uint64_t *old)
{
	return atomic_run(g, off, IBV_WR_ATOMIC_CMP_AND_SWP, expected, desired, old);
}

int sealmr_fetch_add(struct sealmr_grant *g, uint64_t off, uint64_t add, uint64_t *old)
{
	return atomic_run(g, off, IBV_WR_ATOMIC_FETCH_AND_ADD, add, 0, old);
}

int sealmr_atomic_write(struct sealmr_grant *g, uint64_t off, uint64_t value)
{
	struct sealmr_conn *c = g->conn;
	int rc = atomic_prepare(g, off, "atomic write");

	if (rc) {
		conn_run_revoke_cbs(c);
		return rc;
	}
	if (!c->qpx)
		return conn_err(c, -EOPNOTSUPP, "atomic write: %s", c->atomic_write_why);
#if HAVE_DECL_IBV_WR_ATOMIC_WRITE
	ibv_wr_start(c->qpx);
	c->qpx->wr_id = WRID(WRID_ATOMIC, 0);
	c->qpx->wr_flags = IBV_SEND_SIGNALED;
	/* The 8 bytes land as they are in memory here. */
	ibv_wr_atomic_write(c->qpx, g->g.rkey, g->g.addr + off, &value);
	rc = ibv_wr_complete(c->qpx);
	if (rc)
		return conn_err(c, -rc, "atomic write at offset %llu of grant %llu: %s",
				(unsigned long long)off, (unsigned long long)g->g.grant_id,
				strerror(rc));
	c->sq_used++;
	c->atomic_busy = true;
	return atomic_wait(c, NULL);
#else
	return conn_err(c, -EOPNOTSUPP, "atomic write: %s", c->atomic_write_why);
#endif
}
