/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "flush.h"
#include "grant.h"
#include "util.h"
#include "log.h"

static int grant_access_flags(bool writable)
{
	int flags = IBV_ACCESS_REMOTE_READ;

	/* Remote write needs local write; atomics ride on write access. */
	if (writable)
		flags |= IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			 IBV_ACCESS_REMOTE_ATOMIC;
	return flags;
}

/* *flags loses the flush flag where the region could not have it. */
static struct ibv_mr *grant_reg(struct ibv_pd *pd, struct export *exp, void *addr,
				uint64_t len, int *flags, char *err, size_t errlen)
{
	struct ibv_mr *mr;
	int odp = exp->reg == EXPORT_REG_ODP;

	mr = FAULT("grant.reg_mr", ENOMEM)
		     ? NULL
		     : ibv_reg_mr(pd, addr, len, *flags | (odp ? IBV_ACCESS_ON_DEMAND : 0));
	if (mr)
		return mr;
	if (!odp && (errno == EOPNOTSUPP || errno == EFAULT)) {
		/* Like librpma: the kernel refuses long-term pins of fs-dax and
		 * of dirty-tracked file pages; ODP needs no pin. */
		LOG_WARN("export '%s': pinned ibv_reg_mr(addr=%p, len=%llu): %s; "
			 "falling back to on-demand paging", exp->cfg.name, addr,
			 (unsigned long long)len, strerror(errno));
		exp->reg = EXPORT_REG_ODP;
		return grant_reg(pd, exp, addr, len, flags, err, errlen);
	}
	if ((*flags & flush_access_flag()) && (errno == EINVAL || errno == EOPNOTSUPP)) {
		/* The device said it flushes; this region says otherwise. The
		 * commit still makes it durable: the grant offers only that. */
		LOG_WARN("export '%s': ibv_reg_mr(addr=%p, len=%llu) for RDMA FLUSH: %s; "
			 "registering without it (flush by commit only)", exp->cfg.name, addr,
			 (unsigned long long)len, strerror(errno));
		*flags &= ~flush_access_flag();
		return grant_reg(pd, exp, addr, len, flags, err, errlen);
	}
	int e = errno;

	snprintf(err, errlen, "export '%s': ibv_reg_mr(addr=%p, len=%llu, %s): %s%s",
		 exp->cfg.name, addr, (unsigned long long)len, odp ? "odp" : "pinned",
		 strerror(e), e == EOPNOTSUPP && odp ? " (the RDMA device has no on-demand paging)" : "");
	errno = e; /* the caller's cause */
	return NULL;
}

int grant_new(struct ibv_pd *pd, unsigned flush_caps, struct export *exp, uint64_t id,
	      uint64_t offset, uint64_t length, bool writable, struct grant **out, char *err,
	      size_t errlen)
{
	struct grant *g = FAULT("grant.new", ENOMEM) ? NULL : calloc(1, sizeof(*g));
	int flags = grant_access_flags(writable);
	char *base;

	if (!g) {
		snprintf(err, errlen, "export '%s': a grant: %s", exp->cfg.name, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* The seal maps the whole export: grant offsets are seal offsets. */
	base = (char *)seal_addr(exp->seal) + offset;
	if (flush_native(flush_caps, exp, exp->reg, writable))
		flags |= flush_access_flag();
	g->mr = grant_reg(pd, exp, base, length, &flags, err, errlen);
	if (!g->mr) {
		int rc = -errno; /* before LOG_ERR can change it */

		LOG_ERR("%s", err);
		free(g);
		return rc ? rc : -EIO;
	}
	g->id = id;
	g->exp = exp;
	g->offset = offset;
	g->length = length;
	g->writable = writable;
	/* What the region got, and how it ended up registered, decide. */
	g->native_flush = (flags & flush_access_flag()) &&
			  flush_native(flush_caps, exp, exp->reg, writable);
	g->created_ns = util_now_ns();
	*out = g;
	return 0;
}

void grant_delete(struct grant **pg)
{
	struct grant *g = *pg;
	int rc;

	if (!g)
		return;
	rc = ibv_dereg_mr(g->mr);
	if (rc)
		LOG_ERR("grant %llu: ibv_dereg_mr: %s", (unsigned long long)g->id, strerror(rc));
	export_release(g->exp);
	free(g);
	*pg = NULL;
}

void grant_fill_proto(const struct grant *g, uint32_t place, struct proto_grant *out)
{
	memset(out, 0, sizeof(*out));
	out->grant_id = g->id;
	out->addr = (uint64_t)(uintptr_t)g->mr->addr;
	out->offset = g->offset;
	out->length = g->length;
	out->rkey = g->mr->rkey;
	out->access = PROTO_ACCESS_READ | (g->writable ? PROTO_ACCESS_WRITE : 0);
	out->persist = export_proto_persist(g->exp);
	out->flush = PROTO_FLUSH_COMMIT | (g->native_flush ? PROTO_FLUSH_RDMA_FLUSH : 0);
	/* Pinned regions go through rxe's ordinary copy, which keeps the offset. */
	out->place = g->exp->reg == EXPORT_REG_ODP ? place : PROTO_PLACE_EXACT;
}

int grant_persist(struct grant *g, uint64_t off, uint64_t len)
{
	g->exp->commits++;
	return seal_persist(g->exp->seal, g->offset + off, len);
}
