/* SPDX-License-Identifier: MIT */
/*
 * grant: a range of an export made reachable by one client. Its memory
 * region lives in that client's protection domain, so its rkey means
 * nothing on any other connection; deregistering it is the revocation, and
 * happens before the client is told.
 */
#ifndef SEALMR_GRANT_H
#define SEALMR_GRANT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <infiniband/verbs.h>

#include "export.h"

struct grant {
	TAILQ_ENTRY(grant) entry; /* in its connection */
	uint64_t id;
	struct export *exp;
	uint64_t offset; /* in the export */
	uint64_t length;
	bool writable;
	bool native_flush; /* registered so that an RDMA FLUSH is persistent */
	struct ibv_mr *mr;
	uint64_t created_ns;
};
TAILQ_HEAD(grant_list, grant);

/*
 * Registers exp's sealed range offset..+length in pd (the export must be
 * held), for a native RDMA FLUSH too where flush_caps (enum flush_cap of
 * pd's device) and the export allow it. Returns -errno with a message in err.
 */
int grant_new(struct ibv_pd *pd, unsigned flush_caps, struct export *exp, uint64_t id,
	      uint64_t offset, uint64_t length, bool writable, struct grant **out, char *err,
	      size_t errlen);
/* Deregisters (the rkey dies here) and releases the export. NULL is fine. */
void grant_delete(struct grant **grant);

/* place: the connection's device's placement for ODP regions (place.h). */
void grant_fill_proto(const struct grant *grant, uint32_t place, struct proto_grant *out);
/* Makes off..+len (relative to the grant) durable. */
int grant_persist(struct grant *grant, uint64_t off, uint64_t len);

#endif
