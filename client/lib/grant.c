/* SPDX-License-Identifier: MIT */
/*
 * grant: a range of an export the daemon registered for this connection,
 * reached with its rkey. Opened, closed, revoked by the daemon at any time,
 * re-opened after a reconnect.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

/* The public header spells the wire's values again, for programs that see
 * only it: they must stay the same numbers. */
_Static_assert(SEALMR_DEFAULT_PORT == PROTO_DEFAULT_PORT, "default port");
_Static_assert(SEALMR_GRANT_ALIGN == PROTO_GRANT_ALIGN, "grant alignment");
_Static_assert(SEALMR_NAME_MAX == PROTO_NAME_MAX, "export name size");
_Static_assert((int)SEALMR_READ == PROTO_ACCESS_READ && (int)SEALMR_WRITE == PROTO_ACCESS_WRITE,
	       "access bits");
_Static_assert((int)SEALMR_MODE_DAX == PROTO_MODE_DAX &&
		       (int)SEALMR_MODE_PAGECACHE == PROTO_MODE_PAGECACHE,
	       "modes");
_Static_assert((int)SEALMR_REG_ODP == PROTO_REG_ODP && (int)SEALMR_REG_PINNED == PROTO_REG_PINNED,
	       "registrations");
_Static_assert((int)SEALMR_PERSIST_PMEM == PROTO_PERSIST_PMEM &&
		       (int)SEALMR_PERSIST_PAGECACHE == PROTO_PERSIST_PAGECACHE,
	       "persistence");
_Static_assert((int)SEALMR_FLUSH_COMMIT == PROTO_FLUSH_COMMIT &&
		       (int)SEALMR_FLUSH_RDMA_FLUSH == PROTO_FLUSH_RDMA_FLUSH,
	       "flush methods");
_Static_assert((int)SEALMR_REVOKE_ADMIN == PROTO_REVOKE_ADMIN &&
		       (int)SEALMR_REVOKE_EXPORT_REMOVED == PROTO_REVOKE_EXPORT_REMOVED &&
		       (int)SEALMR_REVOKE_FILE_CHANGED == PROTO_REVOKE_FILE_CHANGED &&
		       (int)SEALMR_REVOKE_SHUTDOWN == PROTO_REVOKE_SHUTDOWN,
	       "revoke reasons");

static uint32_t grant_proto_access(unsigned access)
{
	uint32_t a = 0;

	if (access & SEALMR_READ)
		a |= PROTO_ACCESS_READ;
	if (access & SEALMR_WRITE)
		a |= PROTO_ACCESS_WRITE;
	return a;
}

struct sealmr_grant *grant_find(struct sealmr_conn *c, uint64_t id)
{
	struct sealmr_grant *g;

	TAILQ_FOREACH(g, &c->grants, entry)
		if (g->g.grant_id == id)
			return g;
	return NULL;
}

void grant_revoke(struct sealmr_grant *g, unsigned reason, const char *text)
{
	struct sealmr_conn *c = g->conn;

	g->revoked = true;
	g->revoke_reason = reason;
	snprintf(g->revoke_text, sizeof(g->revoke_text), "%s", text);
	if (!g->cb_due) {
		TAILQ_INSERT_TAIL(&c->revoked, g, cb_entry);
		g->cb_due = true;
	}
}

/* Asks the daemon for g's range; fills g->g. */
static int grant_request(struct sealmr_conn *c, struct sealmr_grant *g, const char *what)
{
	struct proto_msg *req = FAULT("grant.request", ENOMEM) ? NULL : calloc(2, sizeof(*req)),
			 *rep;
	const struct proto_grant *pg;
	int rc;

	if (!req)
		return sess_err(c, -ENOMEM, "%s: out of memory", what);
	rep = req + 1;
	pg = &rep->u.grant;
	req->hdr.type = PROTO_OPEN_REQ;
	snprintf(req->u.open_req.export, sizeof(req->u.open_req.export), "%s", g->export);
	req->u.open_req.offset = g->g.offset;
	req->u.open_req.length = g->g.length;
	req->u.open_req.access = grant_proto_access(g->req_access);
	rc = ctrl_call(c, req, PROTO_GRANT, rep, what);
	if (rc == 0 && (pg->offset != g->g.offset || pg->length != g->g.length ||
			((g->req_access & SEALMR_WRITE) && !(pg->access & PROTO_ACCESS_WRITE))))
		rc = sess_err(c, -EPROTO, "%s at %s: the daemon granted [%llu, +%llu) %s, not the "
			      "range asked for", what, c->where, (unsigned long long)pg->offset,
			      (unsigned long long)pg->length,
			      pg->access & PROTO_ACCESS_WRITE ? "rw" : "ro");
	if (rc == 0) {
		g->g = *pg;
		g->dead = false; /* a new rkey */
	}
	free(req);
	return rc;
}

int sealmr_open(struct sealmr_conn *c, const char *name, uint64_t offset, uint64_t length,
		unsigned access, struct sealmr_grant **out)
{
	char what[PROTO_NAME_MAX + 16];
	struct sealmr_grant *g;
	int rc;

	if (!name || strlen(name) >= PROTO_NAME_MAX)
		return sess_err(c, -ENAMETOOLONG, "open: the export name is missing or longer than "
				"%d bytes", PROTO_NAME_MAX - 1);
	if (access & ~(unsigned)(SEALMR_READ | SEALMR_WRITE))
		return sess_err(c, -EINVAL, "open '%s': unknown access bits 0x%x", name, access);
	snprintf(what, sizeof(what), "open '%s'", name);
	g = FAULT("grant.open", ENOMEM) ? NULL : calloc(1, sizeof(*g));
	if (!g)
		return sess_err(c, -ENOMEM, "%s: out of memory", what);
	g->conn = c;
	snprintf(g->export, sizeof(g->export), "%s", name);
	g->req_access = access | SEALMR_READ;
	g->g.offset = offset;
	g->g.length = length;
	rc = grant_request(c, g, what);
	if (rc) {
		free(g);
		sess_run_revoke_cbs(c);
		return rc;
	}
	TAILQ_INSERT_TAIL(&c->grants, g, entry);
	LOG_DEBUG("sealmr %s: grant %llu on '%s' [%llu, +%llu) rkey 0x%x", c->where,
		  (unsigned long long)g->g.grant_id, name, (unsigned long long)offset,
		  (unsigned long long)length, g->g.rkey);
	sess_run_revoke_cbs(c);
	*out = g;
	return 0;
}

static void grant_unlink_free(struct sealmr_grant *g)
{
	struct sealmr_conn *c = g->conn;

	TAILQ_REMOVE(&c->grants, g, entry);
	if (g->cb_due)
		TAILQ_REMOVE(&c->revoked, g, cb_entry);
	free(g);
}

int sealmr_close(struct sealmr_grant **pg)
{
	struct sealmr_grant *g = pg ? *pg : NULL;
	struct sealmr_conn *c;
	int rc = 0;

	if (!g)
		return 0;
	c = g->conn;
	/* A revoked grant is already gone on the daemon, and so is every
	 * grant of a broken connection. */
	if (!g->revoked && c->state == SESS_ESTABLISHED) {
		struct proto_msg *req =
		    FAULT("grant.close", ENOMEM) ? NULL : calloc(2, sizeof(*req));
		char what[64];

		snprintf(what, sizeof(what), "close grant %llu", (unsigned long long)g->g.grant_id);
		if (!req) {
			rc = sess_err(c, -ENOMEM, "%s: out of memory", what);
		} else {
			req->hdr.type = PROTO_CLOSE_REQ;
			req->u.close_req.grant_id = g->g.grant_id;
			rc = ctrl_call(c, req, PROTO_CLOSE_RESP, req + 1, what);
			free(req);
		}
	}
	grant_unlink_free(g);
	*pg = NULL;
	sess_run_revoke_cbs(c);
	return rc;
}

void sealmr_grant_get_info(const struct sealmr_grant *g, struct sealmr_grant_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = g->g.grant_id;
	out->offset = g->g.offset;
	out->length = g->g.length;
	out->remote_addr = g->g.addr;
	out->rkey = g->g.rkey;
	out->access = ((g->g.access & PROTO_ACCESS_READ) ? SEALMR_READ : 0) |
		      ((g->g.access & PROTO_ACCESS_WRITE) ? SEALMR_WRITE : 0);
	out->persist = g->g.persist;
	out->flush_methods = ((g->g.flush & PROTO_FLUSH_COMMIT) ? SEALMR_FLUSH_COMMIT : 0) |
			     ((g->g.flush & PROTO_FLUSH_RDMA_FLUSH) ? SEALMR_FLUSH_RDMA_FLUSH : 0);
}

void grant_reopen_all(struct sealmr_conn *c, unsigned *reopened, unsigned *lost)
{
	struct sealmr_grant *g;

	*reopened = *lost = 0;
	TAILQ_FOREACH(g, &c->grants, entry) {
		char what[PROTO_NAME_MAX + 32];
		uint64_t old = g->g.grant_id;

		/* What the daemon took back on purpose stays taken. */
		if (g->revoked && g->revoke_reason != PROTO_REVOKE_SHUTDOWN)
			continue;
		snprintf(what, sizeof(what), "re-open '%s'", g->export);
		if (grant_request(c, g, what)) {
			char text[PROTO_TEXT_MAX];

			snprintf(text, sizeof(text), "cannot be re-opened after a reconnect: %.200s",
				 c->errmsg);
			grant_revoke(g, PROTO_REVOKE_ADMIN, text);
			(*lost)++;
			continue;
		}
		LOG_DEBUG("sealmr %s: grant %llu re-opened as %llu", c->where,
			  (unsigned long long)old, (unsigned long long)g->g.grant_id);
		g->revoked = false;
		(*reopened)++;
	}
}

void grant_free_all(struct sealmr_conn *c)
{
	struct sealmr_grant *g;

	while ((g = TAILQ_FIRST(&c->grants)))
		grant_unlink_free(g);
}

int grant_revoked_err(struct sealmr_grant *g)
{
	return sess_err(g->conn, -EACCES, "grant %llu revoked by the server: %s",
			(unsigned long long)g->g.grant_id, g->revoke_text);
}

int grant_why_refused(struct sealmr_grant *g, int rc)
{
	struct sealmr_conn *c = g->conn;
	struct proto_msg *req = c->why_msgs;
	char msg[SESS_ERRMSG_MAX];

	if (g->revoked)
		return grant_revoked_err(g);
	if (c->state != SESS_ESTABLISHED)
		return rc;
	/* The daemon kills the rkey before it sends REVOKE, and answers this
	 * after: on the one control QP, the REVOKE arrives first. */
	snprintf(msg, sizeof(msg), "%s", c->errmsg);
	memset(req, 0, sizeof(*req));
	req->hdr.type = PROTO_STAT_REQ;
	snprintf(req->u.stat_req.export, sizeof(req->u.stat_req.export), "%s", g->export);
	ctrl_call(c, req, PROTO_STAT_RESP, req + 1, "stat (after a remote access error)");
	if (g->revoked)
		return grant_revoked_err(g);
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", msg);
	return rc;
}

int grant_check(struct sealmr_grant *g, uint64_t off, uint64_t len, bool write)
{
	struct sealmr_conn *c = g->conn;
	bool back_later = c->opts.reconnect && g->revoke_reason == PROTO_REVOKE_SHUTDOWN;
	int rc;

	if (g->revoked && !back_later)
		goto err_revoked;
	rc = sess_ensure(c);
	if (rc)
		return rc;
	if (g->revoked)
		goto err_revoked;
	if (g->dead)
		return sess_err(c, -EACCES, "grant %llu on '%s': the daemon's device refused access "
				"to it (its rkey is dead: revoked or closed by sealmrd)",
				(unsigned long long)g->g.grant_id, g->export);
	if (write && !(g->g.access & PROTO_ACCESS_WRITE))
		return sess_err(c, -EACCES, "grant %llu on '%s' is read-only",
				(unsigned long long)g->g.grant_id, g->export);
	if (off > g->g.length || len > g->g.length - off)
		return sess_err(c, -ERANGE, "grant %llu on '%s': [%llu, +%llu) is beyond its %llu bytes",
				(unsigned long long)g->g.grant_id, g->export,
				(unsigned long long)off, (unsigned long long)len,
				(unsigned long long)g->g.length);
	return 0;

err_revoked:
	return grant_revoked_err(g);
}
