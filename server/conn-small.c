/* SPDX-License-Identifier: MIT */
/*
 * conn-small: WRITE_SMALL and READ_SMALL (PROTOCOL.md, version 2). The
 * daemon's CPU copies the bytes between the message and its own mapping of
 * the grant's range, touching only the bytes named: what rxe's ODP copy
 * would put at the wrong place (a packet that starts inside a page), and
 * what would otherwise take a read-modify-write of a page another client
 * may be writing at the same time. Durability is as for RDMA WRITE: the
 * bytes are in the mapping when the reply goes; a COMMIT makes them stay.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "server-internal.h"

/* The grant's bytes off..+len in the daemon's mapping, after the checks
 * every small request shares; NULL when refused (the client was told). */
static char *conn_small_at(struct conn *c, const struct proto_msg *req, bool write)
{
	const struct proto_small *r = &req->u.small;
	struct grant *g = conn_find_grant(c, r->grant_id);
	char what[64];

	if (!g) {
		conn_error(c, req->hdr.req_id, EBADF, "no grant %llu on this connection",
			   (unsigned long long)r->grant_id);
		return NULL;
	}
	if (write && !g->writable) {
		conn_error(c, req->hdr.req_id, EACCES, "grant %llu is read-only",
			   (unsigned long long)g->id);
		return NULL;
	}
	snprintf(what, sizeof(what), "grant %llu", (unsigned long long)g->id);
	if (conn_check_range(c, req->hdr.req_id, what, g->length, r->offset, r->length))
		return NULL;
	/* The seal maps the whole export: grant offsets are seal offsets. */
	return (char *)seal_addr(g->exp->seal) + g->offset + r->offset;
}

void conn_on_write_small(struct conn *c, const struct proto_msg *req)
{
	struct proto_msg m = { .hdr = { .type = PROTO_WRITE_SMALL_RESP,
					.req_id = req->hdr.req_id } };
	char *at = conn_small_at(c, req, true);

	if (!at)
		return;
	memcpy(at, req->u.small.data, req->u.small.length);
	c->srv->stats.small_writes++;
	m.u.small = req->u.small;
	m.u.small.flags = 0;
	conn_send(c, &m);
}

void conn_on_read_small(struct conn *c, const struct proto_msg *req)
{
	struct proto_msg m = { .hdr = { .type = PROTO_READ_SMALL_RESP,
					.req_id = req->hdr.req_id } };
	char *at = conn_small_at(c, req, false);

	if (!at)
		return;
	m.u.small.grant_id = req->u.small.grant_id;
	m.u.small.offset = req->u.small.offset;
	m.u.small.length = req->u.small.length;
	memcpy(m.u.small.data, at, req->u.small.length);
	c->srv->stats.small_reads++;
	conn_send(c, &m);
}
