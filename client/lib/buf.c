/* SPDX-License-Identifier: MIT */
/*
 * buf: the application's memory registered in the connection's protection
 * domain, the local side of the async transfers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "sealmr-internal.h"

int sealmr_buf_reg(struct sealmr_conn *c, void *addr, size_t len, struct sealmr_buf **out)
{
	struct sealmr_buf *b;

	if (!addr || len == 0)
		return sess_err(c, -EINVAL, "buffer registration: no memory given");
	if (!c->pd)
		return sess_not_connected(c);
	b = FAULT("buf.new", ENOMEM) ? NULL : calloc(1, sizeof(*b));
	if (!b)
		return sess_err(c, -ENOMEM, "buffer registration: out of memory");
	b->mr = FAULT("buf.reg_mr", ENOMEM) ? NULL : ibv_reg_mr(c->pd, addr, len, IBV_ACCESS_LOCAL_WRITE);
	if (!b->mr) {
		int rc = -errno;

		free(b);
		return sess_err(c, rc, "ibv_reg_mr(addr=%p, len=%zu): %s%s", addr, len,
				strerror(-rc),
				rc == -ENOMEM || rc == -EPERM
					? " (pinned memory is limited by RLIMIT_MEMLOCK: ulimit -l)" : "");
	}
	b->conn = c;
	b->addr = addr;
	b->len = len;
	TAILQ_INSERT_TAIL(&c->bufs, b, entry);
	*out = b;
	return 0;
}

void sealmr_buf_dereg(struct sealmr_buf **pb)
{
	struct sealmr_buf *b = pb ? *pb : NULL;

	if (!b)
		return;
	TAILQ_REMOVE(&b->conn->bufs, b, entry);
	ibv_dereg_mr(b->mr);
	free(b);
	*pb = NULL;
}

void buf_free_all(struct sealmr_conn *c)
{
	struct sealmr_buf *b;

	while ((b = TAILQ_FIRST(&c->bufs))) {
		struct sealmr_buf *p = b;

		sealmr_buf_dereg(&p);
	}
}
