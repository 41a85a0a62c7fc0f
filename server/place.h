/* SPDX-License-Identifier: MIT */
/*
 * place: where an RDMA device puts a packet into a region, which a GRANT
 * tells the client (PROTOCOL.md, GRANT's place).
 */
#ifndef SEALMR_PLACE_H
#define SEALMR_PLACE_H

#include <stdint.h>
#include <infiniband/verbs.h>

/*
 * Where verbs puts packets into an on-demand-paging region, found by a
 * loopback self-test the first time a device is asked about (logged):
 * PROTO_PLACE_PAGE where a packet that starts inside a page lands at the
 * page's start (Soft-RoCE on Linux 7.2: __rxe_odp_mr_copy drops the offset),
 * else PROTO_PLACE_EXACT. Pinned regions are exact everywhere
 * (grant_fill_proto).
 */
uint32_t place_of_odp(struct ibv_context *verbs);

#endif
