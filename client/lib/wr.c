/* SPDX-License-Identifier: MIT */
/*
 * wr: the records of one-sided work requests. A record keeps what was
 * posted (operation, local and remote addresses, keys) until its
 * completion, so that a request flushed because its data QP failed under
 * another operation goes out again on another data QP: one error costs one
 * operation. A request fails with its data QP only when it was on the same
 * grant (whose rkey is dead) or the session itself is gone. Records wait
 * (parked) while no data QP is up, and go out when one comes up.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

#define WR_CHAIN_MAX 32 /* work requests in one ibv_post_send */

int wr_setup(struct sealmr_conn *c)
{
	c->wrs = FAULT("wr.new", ENOMEM) ? NULL : calloc(c->nwr, sizeof(*c->wrs));
	if (!c->wrs)
		return sess_err(c, -ENOMEM, "out of memory for %u work request records", c->nwr);
	STAILQ_INIT(&c->wr_free);
	STAILQ_INIT(&c->wr_parked);
	for (unsigned i = 0; i < c->nwr; i++)
		STAILQ_INSERT_TAIL(&c->wr_free, &c->wrs[i], next);
	c->nwr_free = c->nwr;
	return 0;
}

void wr_teardown(struct sealmr_conn *c)
{
	free(c->wrs);
	c->wrs = NULL;
	c->nwr_free = 0;
}

struct data_wr *wr_get(struct sealmr_conn *c)
{
	struct data_wr *w = STAILQ_FIRST(&c->wr_free);

	if (!w)
		return NULL;
	STAILQ_REMOVE_HEAD(&c->wr_free, next);
	c->nwr_free--;
	return w;
}

void wr_put(struct sealmr_conn *c, struct data_wr *w)
{
	STAILQ_INSERT_HEAD(&c->wr_free, w, next);
	c->nwr_free++;
}

static unsigned wr_index(const struct sealmr_conn *c, const struct data_wr *w)
{
	return (unsigned)(w - c->wrs);
}

/* The record is done: its owner learns the status, the record is free. */
static void wr_finish(struct sealmr_conn *c, struct data_wr *w, int status)
{
	if (w->owner == WR_OWNER_ATOMIC)
		atomic_wr_done(c, status);
	else
		xfer_wr_done(c, w, status);
	wr_put(c, w);
}

static const char *wr_op_name(unsigned op)
{
	static const char *const names[] = {
		[WR_READ] = "RDMA READ", [WR_WRITE] = "RDMA WRITE",
		[WR_CAS] = "compare-and-swap", [WR_FADD] = "fetch-and-add",
		[WR_ATOMIC_WRITE] = "atomic write", [WR_FLUSH] = "RDMA FLUSH",
	};
	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

static void wr_fill(struct sealmr_conn *c, struct data_wr *w, struct ibv_send_wr *wr,
		    struct ibv_sge *sge)
{
	static const enum ibv_wr_opcode opcodes[] = {
		[WR_READ] = IBV_WR_RDMA_READ, [WR_WRITE] = IBV_WR_RDMA_WRITE,
		[WR_CAS] = IBV_WR_ATOMIC_CMP_AND_SWP, [WR_FADD] = IBV_WR_ATOMIC_FETCH_AND_ADD,
	};

	memset(wr, 0, sizeof(*wr));
	sge->addr = w->local;
	sge->length = w->len;
	sge->lkey = w->lkey;
	wr->wr_id = WRID(WRID_DATA, wr_index(c, w));
	wr->sg_list = sge;
	wr->num_sge = 1;
	wr->opcode = opcodes[w->op];
	wr->send_flags = IBV_SEND_SIGNALED;
	if (w->op == WR_CAS || w->op == WR_FADD) {
		wr->wr.atomic.remote_addr = w->raddr;
		wr->wr.atomic.compare_add = w->compare_add;
		wr->wr.atomic.swap = w->swap;
		wr->wr.atomic.rkey = w->rkey;
	} else {
		wr->wr.rdma.remote_addr = w->raddr;
		wr->wr.rdma.rkey = w->rkey;
	}
}

/* Atomic write and RDMA FLUSH exist only in the extended posting API. */
static int wr_post_ex(struct sealmr_conn *c, struct dqp *q, struct data_wr *w)
{
#if HAVE_DECL_IBV_WR_ATOMIC_WRITE
	if (!q->qpx)
		return -EOPNOTSUPP;
	ibv_wr_start(q->qpx);
	q->qpx->wr_id = WRID(WRID_DATA, wr_index(c, w));
	q->qpx->wr_flags = IBV_SEND_SIGNALED;
	if (w->op == WR_ATOMIC_WRITE) {
		/* The 8 bytes land as they are in memory here. */
		ibv_wr_atomic_write(q->qpx, w->rkey, w->raddr, &w->compare_add);
	} else {
#if HAVE_DECL_IBV_WR_FLUSH
		ibv_wr_flush(q->qpx, w->rkey, w->raddr, w->len, IBV_FLUSH_PERSISTENT,
			     IBV_FLUSH_RANGE);
#else
		ibv_wr_abort(q->qpx);
		return -EOPNOTSUPP;
#endif
	}
	return -ibv_wr_complete(q->qpx);
#else
	return -EOPNOTSUPP;
#endif
}

/* Posts n records on q as one chain. 0, or -errno: then none went. */
static int wr_post_on(struct sealmr_conn *c, struct dqp *q, struct data_wr **ws, unsigned n)
{
	struct ibv_send_wr wr[WR_CHAIN_MAX], *bad;
	struct ibv_sge sge[WR_CHAIN_MAX];
	int rc;

	if (n == 1 && (ws[0]->op == WR_ATOMIC_WRITE || ws[0]->op == WR_FLUSH)) {
		rc = wr_post_ex(c, q, ws[0]);
	} else {
		for (unsigned i = 0; i < n; i++) {
			wr_fill(c, ws[i], &wr[i], &sge[i]);
			wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
		}
		rc = -ibv_post_send(q->qp, wr, &bad);
	}
	if (rc)
		return sess_err(c, rc, "ibv_post_send(%s, len=%u, raddr=0x%llx) on data QP %u: %s",
				wr_op_name(ws[0]->op), ws[0]->len,
				(unsigned long long)ws[0]->raddr, q->idx, strerror(-rc));
	for (unsigned i = 0; i < n; i++)
		ws[i]->qp = (uint8_t)q->idx;
	q->sq_used += n;
	return 0;
}

static void wr_park(struct sealmr_conn *c, struct data_wr *w)
{
	STAILQ_INSERT_TAIL(&c->wr_parked, w, next);
}

int wr_submit(struct sealmr_conn *c, struct data_wr **ws, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		bool ext = ws[done]->op == WR_ATOMIC_WRITE || ws[done]->op == WR_FLUSH;
		struct dqp *q = dqp_pick(c, ext);
		unsigned k = 0;
		int rc;

		if (!q && ext && dqp_ext_why(c)[0]) {
			/* No data QP that has it will come: it fails alone. */
			if (done == 0)
				return sess_err(c, -EOPNOTSUPP, "%s: %s", wr_op_name(ws[0]->op),
						dqp_ext_why(c));
			wr_finish(c, ws[done++], -EOPNOTSUPP);
			continue;
		}
		if (!q) {
			if (!dqp_any_alive(c))
				return done ? 0 : dqp_none_err(c);
			/* Waits for a data QP to come back (wr_post_parked). */
			while (done < n)
				wr_park(c, ws[done++]);
			return 0;
		}
		/* Extended-API requests go alone; the rest in chains, shared
		 * out over the data QPs that are up. */
		if (ext) {
			k = 1;
		} else {
			unsigned up = dqp_count_up(c), share = (n - done + up - 1) / up;

			while (done + k < n && k < share && k < WR_CHAIN_MAX &&
			       ws[done + k]->op != WR_ATOMIC_WRITE && ws[done + k]->op != WR_FLUSH)
				k++;
		}
		rc = wr_post_on(c, q, ws + done, k);
		if (rc) {
			if (done == 0)
				return rc;
			/* Some went already: the rest complete with the error. */
			while (done < n)
				wr_finish(c, ws[done++], rc);
			return 0;
		}
		done += k;
	}
	return 0;
}

void wr_post_parked(struct sealmr_conn *c)
{
	struct data_wr *w;

	/* In order: an extended request at the head waits for its kind of QP. */
	while ((w = STAILQ_FIRST(&c->wr_parked))) {
		bool ext = w->op == WR_ATOMIC_WRITE || w->op == WR_FLUSH;
		struct dqp *q = dqp_pick(c, ext);

		if (!q && ext && dqp_ext_why(c)[0]) {
			/* Its kind of QP is gone for good: the rest need not wait. */
			STAILQ_REMOVE_HEAD(&c->wr_parked, next);
			wr_finish(c, w, -EOPNOTSUPP);
			continue;
		}
		if (!q)
			return;
		STAILQ_REMOVE_HEAD(&c->wr_parked, next);
		if (wr_post_on(c, q, &w, 1))
			wr_finish(c, w, -EIO);
	}
}

void wr_fail_parked(struct sealmr_conn *c, int err)
{
	struct data_wr *w;

	while ((w = STAILQ_FIRST(&c->wr_parked))) {
		STAILQ_REMOVE_HEAD(&c->wr_parked, next);
		wr_finish(c, w, err);
	}
}

int wr_wc_err(struct sealmr_conn *c, const struct ibv_wc *wc, uint64_t grant_id)
{
	struct sealmr_grant *g = grant_find(c, grant_id);

	if (wc->status == IBV_WC_REM_ACCESS_ERR) {
		if (g) {
			g->dead = true;
			if (g->revoked)
				return grant_revoked_err(g);
		}
		return sess_err(c, -EACCES, "remote access error on grant %llu (revoked or closed "
				"by sealmrd, out of range, or not writable)",
				(unsigned long long)grant_id);
	}
	return sess_err(c, -EIO, "RDMA operation on grant %llu failed: %s",
			(unsigned long long)grant_id, ibv_wc_status_str(wc->status));
}

/* A record its data QP's failure flushed: again elsewhere, unless its own
 * grant is what failed or the session is gone. */
static void wr_requeue(struct sealmr_conn *c, struct data_wr *w)
{
	struct sealmr_grant *g = grant_find(c, w->grant_id);

	if (c->state != SESS_ESTABLISHED) {
		wr_finish(c, w, -ENOTCONN);
		return;
	}
	if (!g || g->revoked || g->dead) {
		wr_finish(c, w, g && g->revoked ? grant_revoked_err(g)
					      : sess_err(c, -EACCES, "grant %llu: the daemon's "
							 "device refused access to it",
							 (unsigned long long)w->grant_id));
		return;
	}
	if (wr_submit(c, &w, 1))
		wr_finish(c, w, -ENOTCONN);
}

void wr_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc)
{
	unsigned idx = WRID_INDEX(wc->wr_id);
	struct data_wr *w;
	struct dqp *q;
	char why[SESS_ERRMSG_MAX];
	int rc;

	if (idx >= c->nwr)
		return;
	w = &c->wrs[idx];
	q = &c->dq[w->qp];
	if (q->sq_used)
		q->sq_used--;
	if (wc->status == IBV_WC_SUCCESS) {
		wr_finish(c, w, 0);
	} else if (wc->status == IBV_WC_WR_FLUSH_ERR) {
		/* If the kernel, not we, moved the QP to error, this is news. */
		snprintf(why, sizeof(why), "data QP %u was flushed: its link or its peer went away",
			 q->idx);
		dqp_drive(c, q, DQP_EV_FAILED, -ENOTCONN, why);
		wr_requeue(c, w);
	} else {
		rc = wr_wc_err(c, wc, w->grant_id);
		LOG_DEBUG("sealmr %s: data QP %u: %s: %s", c->where, q->idx, wr_op_name(w->op),
			  c->errmsg);
		snprintf(why, sizeof(why), "%s", c->errmsg);
		wr_finish(c, w, rc);
		dqp_drive(c, q, DQP_EV_FAILED, rc, why);
	}
	if (q->state == DQP_DRAINING && q->sq_used == 0)
		dqp_drive(c, q, DQP_EV_DRAINED, 0, NULL);
}
