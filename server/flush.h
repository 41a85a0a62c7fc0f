/* SPDX-License-Identifier: MIT */
/*
 * flush: whether a native RDMA FLUSH (IBV_WR_FLUSH, persistent placement)
 * of a grant reaches persistence without the daemon, which GRANT's and
 * STAT_RESP's flush bits tell the client (PROTOCOL.md). It takes this
 * build's rdma-core (rdma-core 45 for the access flag, 58 for the ODP
 * capability bit), a device that says it places flushes persistently, and
 * for on-demand-paging regions one that flushes those (rxe on Linux 7.2:
 * rxe_odp_flush_pmem_iova); and a grant on fs-dax with write access.
 */
#ifndef SEALMR_FLUSH_H
#define SEALMR_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#include "export.h"

/* How a region must be registered for the device to flush it. */
enum flush_cap {
	FLUSH_CAP_PINNED = 1u << 0,
	FLUSH_CAP_ODP = 1u << 1,
};

/* enum flush_cap bits of verbs, and in why what rules the rest out (known
 * once a device). */
unsigned flush_caps_of(struct ibv_context *verbs, char *why, size_t whylen);

/* Whether a grant on exp, registered as reg, gets the native flush. */
bool flush_native(unsigned caps, const struct export *exp, enum export_reg reg, bool writable);

/* The access flag a region registered for a native flush gets (0: none). */
int flush_access_flag(void);


#endif
