/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "flush.h"
#include "proto.h"

/* As many devices as placement keeps (place.c). */
#define FLUSH_DEVICES_MAX 16

/* The daemon only registers for it; the client posts it. Both sides of
 * rdma-core 45 are needed for one build to be honest about it. */
#define FLUSH_BUILD (HAVE_DECL_IBV_ACCESS_FLUSH_PERSISTENT && HAVE_DECL_IBV_WR_FLUSH)

/* The kernel's uAPI bit (rdma/ib_user_verbs.h since Linux 6.2), which
 * ibv_query_device_ex passes through; Debian 12's linux-libc-dev 6.1
 * headers do not name it yet. */
#if HAVE_DECL_IB_UVERBS_DEVICE_FLUSH_PERSISTENT
#define FLUSH_DEVICE_PERSISTENT IB_UVERBS_DEVICE_FLUSH_PERSISTENT
#else
#define FLUSH_DEVICE_PERSISTENT (1ULL << 39)
#endif

static unsigned flush_query(struct ibv_context *verbs, char *why, size_t whylen, bool *known)
{
#if FLUSH_BUILD
	struct ibv_device_attr_ex attr = { 0 };
	unsigned caps = 0;

	if (FAULT("flush.query", ENOMEM) || ibv_query_device_ex(verbs, NULL, &attr)) {
		snprintf(why, whylen, "ibv_query_device_ex: %s", strerror(errno));
		return 0;
	}
	*known = true;
	if (!(attr.device_cap_flags_ex & FLUSH_DEVICE_PERSISTENT)) {
		snprintf(why, whylen, "the device does not place RDMA FLUSH persistently");
		return 0;
	}
	caps |= FLUSH_CAP_PINNED;
#if HAVE_DECL_IBV_ODP_SUPPORT_FLUSH
	if (attr.odp_caps.per_transport_caps.rc_odp_caps & IBV_ODP_SUPPORT_FLUSH)
		caps |= FLUSH_CAP_ODP;
	else
		snprintf(why, whylen, "the device cannot flush on-demand-paging regions "
			 "(no IBV_ODP_SUPPORT_FLUSH): pinned ones only");
#else
	snprintf(why, whylen, "this rdma-core cannot tell whether the device flushes "
		 "on-demand-paging regions (IBV_ODP_SUPPORT_FLUSH is rdma-core 58): pinned ones only");
#endif
	return caps;
#else
	(void)verbs;
	*known = true;
	snprintf(why, whylen, "this sealmrd's rdma-core has no ibv_wr_flush "
		 "(rdma-core 45; configure --with-rdma-core, scripts/rdma-core)");
	return 0;
#endif
}

/*
 * Once a device, as placement is: every accepted connection asks. A query
 * that failed is asked again next time rather than kept as "no flush".
 */
unsigned flush_caps_of(struct ibv_context *verbs, char *why, size_t whylen)
{
	static struct {
		struct ibv_context *verbs;
		unsigned caps;
		char why[160];
	} known[FLUSH_DEVICES_MAX];
	static unsigned nknown;
	char w[sizeof(known[0].why)] = "";
	bool ok = false;
	unsigned caps;

	for (unsigned i = 0; i < nknown; i++) {
		if (known[i].verbs == verbs) {
			snprintf(why, whylen, "%s", known[i].why);
			return known[i].caps;
		}
	}
	caps = flush_query(verbs, w, sizeof(w), &ok);
	if (ok && nknown < FLUSH_DEVICES_MAX) {
		known[nknown].verbs = verbs;
		known[nknown].caps = caps;
		memcpy(known[nknown++].why, w, sizeof(w));
	}
	snprintf(why, whylen, "%s", w);
	return caps;
}

bool flush_native(unsigned caps, const struct export *exp, enum export_reg reg, bool writable)
{
	unsigned need = reg == EXPORT_REG_ODP ? FLUSH_CAP_ODP : FLUSH_CAP_PINNED;

	/* The page cache is not the file: only fs-dax stores reach it. */
	return (caps & need) && writable && exp->cfg.mode == SEAL_MODE_DAX;
}

int flush_access_flag(void)
{
#if FLUSH_BUILD
	return IBV_ACCESS_FLUSH_PERSISTENT;
#else
	return 0;
#endif
}
