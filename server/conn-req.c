/* SPDX-License-Identifier: MIT */
/*
 * conn-req: what the daemon does with a client's requests (LIST, OPEN,
 * CLOSE, COMMIT, STAT; the small transfers are in conn-small.c). Each
 * handler answers exactly once, with its reply or an ERROR, through
 * conn_send(); the connection's life is conn.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "flush.h"
#include "log.h"
#include "server-internal.h"
#include "util.h"

static void conn_on_list(struct conn *c, const struct proto_msg *req)
{
	struct server *srv = c->srv;
	struct proto_msg m = { .hdr = { .type = PROTO_LIST_RESP, .req_id = req->hdr.req_id } };
	struct proto_list_resp *r = &m.u.list_resp;

	/* A client sees only the exports it may open. */
	for (unsigned i = 0; i < srv->nexports; i++) {
		const struct export *exp = srv->exports[i];

		if (exp->removed || !conf_client_allowed(&exp->cfg, &c->peer_addr))
			continue;
		if (r->total++ < req->u.list_req.start || r->count == PROTO_LIST_MAX)
			continue;
		struct proto_export_info *e = &r->exports[r->count++];

		snprintf(e->name, sizeof(e->name), "%s", exp->cfg.name);
		e->size = exp->cfg.size;
		e->access = export_proto_access(exp);
		e->mode = export_proto_mode(exp);
	}
	conn_send(c, &m);
}

static struct export *conn_export(struct conn *c, uint32_t req_id, const char *name)
{
	struct export *exp = server_find_export(c->srv, name);
	char esc[PROTO_NAME_MAX * 4];

	if (!exp || !conf_client_allowed(&exp->cfg, &c->peer_addr)) {
		conn_error(c, req_id, ENOENT, "no export '%s'",
			   log_escape(name, PROTO_NAME_MAX, esc, sizeof(esc)));
		return NULL;
	}
	return exp;
}

int conn_check_range(struct conn *c, uint32_t req_id, const char *what, uint64_t size,
		     uint64_t off, uint64_t len)
{
	if (len == 0) {
		conn_error(c, req_id, EINVAL, "%s: zero length", what);
		return -1;
	}
	if (off > size || len > size - off) {
		conn_error(c, req_id, ERANGE,
			   "%s: [%llu, +%llu) is beyond its %llu bytes", what,
			   (unsigned long long)off, (unsigned long long)len,
			   (unsigned long long)size);
		return -1;
	}
	return 0;
}

static void conn_on_open(struct conn *c, const struct proto_msg *req)
{
	const struct proto_open_req *o = &req->u.open_req;
	uint32_t id = req->hdr.req_id;
	struct proto_msg m = { .hdr = { .type = PROTO_GRANT, .req_id = id } };
	struct server *srv = c->srv;
	struct export *exp = conn_export(c, id, o->export);
	uint64_t t0 = util_now_ns(), t1, t2;
	struct grant *g;
	char err[512] = "";
	bool sealed;
	int rc;

	if (!exp || conn_check_range(c, id, o->export, exp->cfg.size, o->offset, o->length))
		return;
	/* rxe's ODP copy puts a mid-page packet at its page's start: with
	 * grants starting on a page, that page is still the grant's own. */
	if (o->offset % PROTO_GRANT_ALIGN) {
		conn_error(c, id, EINVAL, "%s: a grant must start on a %u-byte boundary (asked %llu)",
			   exp->cfg.name, PROTO_GRANT_ALIGN, (unsigned long long)o->offset);
		return;
	}
	if ((o->access & PROTO_ACCESS_WRITE) && !exp->cfg.writable) {
		conn_error(c, id, EACCES, "export '%s' is read-only", exp->cfg.name);
		return;
	}
	sealed = exp->seal != NULL;
	rc = export_hold(exp, srv->seals, err, sizeof(err));
	if (rc) {
		LOG_ERR("export '%s': cannot seal: %s", exp->cfg.name, err);
		conn_error(c, id, -rc, "%s", err);
		return;
	}
	if (!sealed)
		srv->stats.seals++;
	t1 = util_now_ns();
	rc = grant_new(c->pd, c->flush_caps, exp, ++srv->next_grant_id, o->offset, o->length,
		       (o->access & PROTO_ACCESS_WRITE) != 0, &g, err, sizeof(err));
	t2 = util_now_ns();
	if (rc) {
		export_release(exp);
		conn_error(c, id, -rc, "%s", err);
		return;
	}
	TAILQ_INSERT_TAIL(&c->grants, g, entry);
	c->ngrants++;
	srv->stats.grants++;
	grant_fill_proto(g, c->place, &m.u.grant);
	LOG_INFO("client %s: grant %llu on '%s' [%llu, +%llu) %s rkey 0x%x", c->peer,
		 (unsigned long long)g->id, exp->cfg.name, (unsigned long long)g->offset,
		 (unsigned long long)g->length, g->writable ? "rw" : "ro",
		 g->mr->rkey);
	conn_send(c, &m);
	srv->stats.open_ns_checks += t1 - t0;
	srv->stats.open_ns_register += t2 - t1;
	srv->stats.open_ns_reply += util_now_ns() - t2;
}

static void conn_on_close(struct conn *c, const struct proto_msg *req)
{
	struct proto_msg m = { .hdr = { .type = PROTO_CLOSE_RESP, .req_id = req->hdr.req_id } };
	struct grant *g = conn_find_grant(c, req->u.close_req.grant_id);
	uint64_t t0 = util_now_ns();

	if (!g) {
		conn_error(c, req->hdr.req_id, EBADF, "no grant %llu on this connection",
			   (unsigned long long)req->u.close_req.grant_id);
		return;
	}
	m.u.close_req.grant_id = g->id;
	conn_drop_grant(c, g);
	c->srv->stats.close_ns_deregister += util_now_ns() - t0;
	c->srv->stats.closes++;
	conn_send(c, &m);
}

static void conn_on_commit(struct conn *c, const struct proto_msg *req)
{
	const struct proto_commit_req *r = &req->u.commit_req;
	struct proto_msg m = { .hdr = { .type = PROTO_COMMIT_RESP, .req_id = req->hdr.req_id } };
	struct grant *g = conn_find_grant(c, r->grant_id);
	char what[64];
	int rc;

	if (!g) {
		conn_error(c, req->hdr.req_id, EBADF, "no grant %llu on this connection",
			   (unsigned long long)r->grant_id);
		return;
	}
	snprintf(what, sizeof(what), "grant %llu", (unsigned long long)g->id);
	if (conn_check_range(c, req->hdr.req_id, what, g->length, r->offset, r->length))
		return;
	rc = grant_persist(g, r->offset, r->length);
	if (rc) {
		conn_error(c, req->hdr.req_id, -rc, "commit of grant %llu: %s",
			   (unsigned long long)g->id, strerror(-rc));
		return;
	}
	c->srv->stats.commits++;
	m.u.commit_req = *r;
	conn_send(c, &m);
}

static void conn_on_stat(struct conn *c, const struct proto_msg *req)
{
	struct proto_msg m = { .hdr = { .type = PROTO_STAT_RESP, .req_id = req->hdr.req_id } };
	struct proto_stat_resp *s = &m.u.stat_resp;
	struct export *exp = conn_export(c, req->hdr.req_id, req->u.stat_req.export);

	if (!exp)
		return;
	snprintf(s->name, sizeof(s->name), "%s", exp->cfg.name);
	snprintf(s->path, sizeof(s->path), "%s", exp->cfg.path);
	s->size = exp->cfg.size;
	s->access = export_proto_access(exp);
	s->mode = export_proto_mode(exp);
	s->reg = exp->seal ? export_proto_reg(exp->reg) : PROTO_REG_ODP;
	s->persist = export_proto_persist(exp);
	s->grants = exp->grants;
	s->sealed = exp->seal != NULL;
	s->commits = exp->commits;
	s->flush = PROTO_FLUSH_COMMIT |
		   (flush_native(c->flush_caps, exp, exp->seal ? exp->reg : EXPORT_REG_ODP,
				 exp->cfg.writable)
			    ? PROTO_FLUSH_RDMA_FLUSH
			    : 0);
	conn_send(c, &m);
}

void conn_on_message(struct conn *c, const void *buf, size_t len)
{
	struct proto_msg req;
	int rc = proto_decode(buf, len, &req);

	/* One connection, one version: a message of another is malformed. */
	if (rc == 0 && req.hdr.version != c->version)
		rc = -EPROTONOSUPPORT;
	if (rc) {
		c->srv->stats.bad_messages++;
		LOG_WARN("client %s: bad message (%zu bytes, type 0x%x): %s", c->peer, len,
			 req.hdr.type, strerror(-rc));
		if (++c->bad_msgs >= CONN_BAD_MSGS_MAX) {
			conn_drive(c, CONN_EV_FAILED, "8 bad messages");
			return;
		}
		conn_error(c, len >= PROTO_HDR_SIZE ? req.hdr.req_id : 0, -rc,
			   "malformed %s message: %s", proto_type_name(req.hdr.type),
			   strerror(-rc));
		return;
	}
	LOG_DEBUG("client %s: %s req %u", c->peer, proto_type_name(req.hdr.type), req.hdr.req_id);
	switch (req.hdr.type) {
	case PROTO_LIST_REQ:
		conn_on_list(c, &req);
		break;
	case PROTO_OPEN_REQ:
		conn_on_open(c, &req);
		break;
	case PROTO_CLOSE_REQ:
		conn_on_close(c, &req);
		break;
	case PROTO_COMMIT_REQ:
		conn_on_commit(c, &req);
		break;
	case PROTO_STAT_REQ:
		conn_on_stat(c, &req);
		break;
	case PROTO_WRITE_SMALL_REQ:
		conn_on_write_small(c, &req);
		break;
	case PROTO_READ_SMALL_REQ:
		conn_on_read_small(c, &req);
		break;
	default:
		conn_error(c, req.hdr.req_id, EPROTO, "%s is not a request",
			   proto_type_name(req.hdr.type));
		break;
	}
}

