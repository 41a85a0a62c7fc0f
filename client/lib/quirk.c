/* SPDX-License-Identifier: MIT */
/*
 * quirk: where the daemon's device misplaces packets. Soft-RoCE (rxe) on
 * Linux 7.2 copies a packet that lands in (or is read from) an on-demand-
 * paging MR at the start of its page: the offset within the page is lost.
 * The daemon says so per grant (GRANT's place, proto/PROTOCOL.md). For such
 * a grant a one-sided transfer must start on a page of the grant and every
 * packet with it, so the path MTU must be a whole page (4096); the bytes
 * before a transfer's first page boundary go to the daemon as WRITE_SMALL
 * and READ_SMALL messages instead (xfer.c), which touch only those bytes.
 * SEALMR_RXE_QUIRK=0 takes every grant as exactly placed, =1 none.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sealmr-internal.h"

#define QUIRK_PAGE 4096u

void quirk_setup(struct sealmr_conn *c)
{
	struct ibv_qp_attr qa;
	struct ibv_qp_init_attr init;
	int mtu;

	c->quirk_why[0] = '\0';
	if (ibv_query_qp(c->qp, &qa, IBV_QP_PATH_MTU, &init))
		return;
	mtu = 128 << qa.path_mtu; /* IBV_MTU_256 = 1 */
	if (mtu < (int)QUIRK_PAGE)
		snprintf(c->quirk_why, sizeof(c->quirk_why),
			 "the path MTU on %s is %d: sealmrd's device misplaces every packet that "
			 "does not start a page of this grant, so transfers would corrupt data; "
			 "give the netdev an MTU of 9000 (a 4096-byte RDMA MTU)",
			 ibv_get_device_name(c->verbs->device), mtu);
	LOG_DEBUG("sealmr %s: path MTU %d", c->where, mtu);
}

unsigned quirk_align(const struct sealmr_grant *g)
{
	const char *env = getenv("SEALMR_RXE_QUIRK");

	if (env && !strcmp(env, "0"))
		return 0;
	if (env && !strcmp(env, "1"))
		return QUIRK_PAGE;
	return g->g.place == PROTO_PLACE_PAGE ? QUIRK_PAGE : 0;
}

int quirk_check(struct sealmr_conn *c, struct sealmr_grant *g, const char *what)
{
	if (quirk_align(g) && c->quirk_why[0])
		return sess_err(c, -EOPNOTSUPP, "%s on grant %llu: %s", what,
				(unsigned long long)g->g.grant_id, c->quirk_why);
	return 0;
}

uint64_t quirk_head(struct sealmr_conn *c, const struct sealmr_grant *g, uint64_t off,
			 uint64_t len)
{
	unsigned align = quirk_align(g);
	uint64_t mis, head;

	if (!align)
		return 0;
	mis = (g->g.addr + off) % align;
	if (!mis)
		return 0;
	head = align - mis;
	return len < head ? len : head;
}
