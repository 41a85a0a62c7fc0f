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

void atomic_wr_done(struct sealmr_conn *c, int status)
{
	c->atomic_busy = false;
	c->atomic_status = status;
}

/* Checks shared by every atomic; waits for the one before and a record. */
static int atomic_prepare(struct sealmr_grant *g, uint64_t off, const char *what)
{
	struct sealmr_conn *c = g->conn;
	int rc = grant_check(g, off, 8, true);

	if (rc)
		return rc;
	if ((g->g.addr + off) % 8)
		return sess_err(c, -EINVAL, "%s at offset %llu of grant %llu: not 8-byte aligned",
				what, (unsigned long long)off, (unsigned long long)g->g.grant_id);
	while ((c->atomic_busy || c->nwr_free == 0) && c->state == SESS_ESTABLISHED)
		sess_progress(c, ATOMIC_WAIT_MS);
	if (c->state != SESS_ESTABLISHED)
		return sess_not_connected(c);
	return 0;
}

/* Posts the one atomic and waits for it: a flush by another operation's
 * failure sends it again on another data QP (wr.c). */
static int atomic_run(struct sealmr_grant *g, uint64_t off, enum wr_op op, uint64_t compare_add,
		      uint64_t swap, uint64_t *old)
{
	static const char *const names[] = {
		[WR_CAS] = "compare-and-swap", [WR_FADD] = "fetch-and-add",
		[WR_ATOMIC_WRITE] = "atomic write",
	};
	struct sealmr_conn *c = g->conn;
	struct data_wr *w;
	int rc = atomic_prepare(g, off, names[op]);

	if (rc)
		goto out;
	if (op == WR_ATOMIC_WRITE && dqp_ext_why(c)[0]) {
		rc = sess_err(c, -EOPNOTSUPP, "atomic write: %s", dqp_ext_why(c));
		goto out;
	}
	w = wr_get(c);
	w->op = (uint8_t)op;
	w->owner = WR_OWNER_ATOMIC;
	w->grant_id = g->g.grant_id;
	w->local = (uintptr_t)(c->ctrl_buf + CTRL_ATOMIC_OFF);
	w->lkey = c->ctrl_mr->lkey;
	w->len = 8;
	w->raddr = g->g.addr + off;
	w->rkey = g->g.rkey;
	w->compare_add = compare_add;
	w->swap = swap;
	c->atomic_busy = true;
	rc = wr_submit(c, &w, 1);
	if (rc) {
		c->atomic_busy = false;
		wr_put(c, w);
		goto out;
	}
	while (c->atomic_busy)
		sess_progress(c, ATOMIC_WAIT_MS);
	rc = c->atomic_status;
	if (rc == -ENOTCONN)
		rc = sess_not_connected(c);
	if (rc == -EACCES)
		rc = grant_why_refused(g, rc);
	if (rc == 0 && old)
		memcpy(old, c->ctrl_buf + CTRL_ATOMIC_OFF, sizeof(*old));
out:
	sess_run_revoke_cbs(c);
	return rc;
}

int sealmr_cas(struct sealmr_grant *g, uint64_t off, uint64_t expected, uint64_t desired,
	       uint64_t *old)
{
	return atomic_run(g, off, WR_CAS, expected, desired, old);
}

int sealmr_fetch_add(struct sealmr_grant *g, uint64_t off, uint64_t add, uint64_t *old)
{
	return atomic_run(g, off, WR_FADD, add, 0, old);
}

int sealmr_atomic_write(struct sealmr_grant *g, uint64_t off, uint64_t value)
{
	return atomic_run(g, off, WR_ATOMIC_WRITE, value, 0, NULL);
}
