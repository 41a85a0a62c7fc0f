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
 * Where verbs puts packets into an on-demand-paging region: PROTO_PLACE_PAGE
 * on Soft-RoCE (rxe), whose ODP copy (Linux 7.2's __rxe_odp_mr_copy) drops a
 * packet's offset within its page; PROTO_PLACE_EXACT elsewhere. Pinned
 * regions are exact everywhere (grant_fill_proto).
 */
uint32_t place_of_odp(struct ibv_context *verbs);

#endif
