/* SPDX-License-Identifier: MIT */
/*
 * quirk: Soft-RoCE (rxe) on Linux 7.2/7.3 copies every packet that lands in
 * (or is read from) an on-demand-paging MR at the start of its page: the
 * offset within the page is lost. Every sealmrd export on fs-dax or the
 * page cache is ODP, so on rxe a transfer is only right when each of its
 * packets starts on a page: the remote start must be page-aligned and the
 * path MTU a whole page (4096). The blocking calls align themselves (a
 * read-modify-write of the first page); the async calls and atomics refuse
 * an unaligned start with a message instead of corrupting data.
 * SEALMR_RXE_QUIRK=0 turns all of this off, =1 forces it on any device.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sealmr-internal.h"

#define QUIRK_PAGE 4096u
#define QUIRK_RXE_VENDOR_ID 0xffffff

static bool quirk_is_rxe(struct sealmr_conn *c)
{
	struct ibv_device_attr attr;

	if (!strncmp(ibv_get_device_name(c->verbs->device), "rxe", 3))
		return true;
	return ibv_query_device(c->verbs, &attr) == 0 && attr.vendor_id == QUIRK_RXE_VENDOR_ID;
}

void xfer_quirk_setup(struct sealmr_conn *c)
{
	const char *env = getenv("SEALMR_RXE_QUIRK");
	struct ibv_qp_attr qa;
	struct ibv_qp_init_attr init;
	int mtu;

	c->quirk_align = 0;
	c->quirk_why[0] = '\0';
	if (env && !strcmp(env, "0"))
		return;
	if (!(env && !strcmp(env, "1")) && !quirk_is_rxe(c))
		return;
	c->quirk_align = QUIRK_PAGE;
	if (ibv_query_qp(c->qp, &qa, IBV_QP_PATH_MTU, &init))
		return;
	mtu = 128 << qa.path_mtu; /* IBV_MTU_256 = 1 */
	if (mtu < (int)QUIRK_PAGE)
		snprintf(c->quirk_why, sizeof(c->quirk_why),
			 "%s's path MTU is %d: Soft-RoCE misplaces every packet that does not start "
			 "a page of an on-demand-paging MR, so transfers would corrupt data; give "
			 "the netdev an MTU of 9000 (a 4096-byte RDMA MTU), or set "
			 "SEALMR_RXE_QUIRK=0 if the export is pinned (tmpfs)",
			 ibv_get_device_name(c->verbs->device), mtu);
	LOG_DEBUG("sealmr %s: rxe quirk on (path MTU %d)%s", c->where, mtu,
		  c->quirk_why[0] ? ": data transfers refused" : "");
}

int xfer_quirk_check(struct sealmr_conn *c, struct sealmr_grant *g, uint64_t off,
		     const char *what)
{
	if (!c->quirk_align)
		return 0;
	if (c->quirk_why[0])
		return conn_err(c, -EOPNOTSUPP, "%s: %s", what, c->quirk_why);
	if ((g->g.addr + off) % c->quirk_align)
		return conn_err(c, -EINVAL, "%s at offset %llu of grant %llu: on Soft-RoCE (rxe) a "
				"transfer into an on-demand-paging MR must start on a %u-byte page "
				"(the kernel misplaces the rest; SEALMR_RXE_QUIRK=0 overrides)",
				what, (unsigned long long)off, (unsigned long long)g->g.grant_id,
				c->quirk_align);
	return 0;
}
