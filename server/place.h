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
 * PROTO_PLACE_PAGE for on-demand-paging regions on Soft-RoCE (rxe): its
 * ODP copy (Linux 7.2's __rxe_odp_mr_copy) drops a packet's offset within
 * its page. PROTO_PLACE_EXACT for pinned regions and other devices.
 */
uint32_t place_of(struct ibv_context *verbs, int odp);

#endif
