/* SPDX-License-Identifier: MIT */
/*
 * ctrl: the control messages. Requests go out as SENDs from a few send
 * slots, bounded by the daemon's credits; replies and revokes come back
 * into SESS_RECVS receive slots, each reposted as soon as its message is
 * decoded. One request is waited for at a time (the connection is used by
 * one thread); a reply nobody waits for any more is dropped.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

/*
 * include/sealmr/sealmr.h repeats the protocol's values so that a program
 * needs no proto.h; the replies are handed on as they came. These keep the
 * two one: a wire change that moves a value stops the build here.
 */
#define CTRL_SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SEALMR_DEFAULT_PORT == PROTO_DEFAULT_PORT, "default port");
_Static_assert(SEALMR_GRANT_ALIGN == PROTO_GRANT_ALIGN, "grant alignment");
_Static_assert(SEALMR_NAME_MAX == PROTO_NAME_MAX, "export name length");
_Static_assert(CTRL_SAME(SEALMR_READ, PROTO_ACCESS_READ) &&
		       CTRL_SAME(SEALMR_WRITE, PROTO_ACCESS_WRITE),
	       "access");
_Static_assert(CTRL_SAME(SEALMR_MODE_DAX, PROTO_MODE_DAX) &&
		       CTRL_SAME(SEALMR_MODE_PAGECACHE, PROTO_MODE_PAGECACHE),
	       "mode");
_Static_assert(CTRL_SAME(SEALMR_REG_ODP, PROTO_REG_ODP) &&
		       CTRL_SAME(SEALMR_REG_PINNED, PROTO_REG_PINNED),
	       "reg");
_Static_assert(CTRL_SAME(SEALMR_PERSIST_PMEM, PROTO_PERSIST_PMEM) &&
		       CTRL_SAME(SEALMR_PERSIST_PAGECACHE, PROTO_PERSIST_PAGECACHE),
	       "persist");
_Static_assert(CTRL_SAME(SEALMR_FLUSH_COMMIT, PROTO_FLUSH_COMMIT) &&
		       CTRL_SAME(SEALMR_FLUSH_RDMA_FLUSH, PROTO_FLUSH_RDMA_FLUSH),
	       "flush methods");
_Static_assert(CTRL_SAME(SEALMR_REVOKE_ADMIN, PROTO_REVOKE_ADMIN) &&
		       CTRL_SAME(SEALMR_REVOKE_EXPORT_REMOVED, PROTO_REVOKE_EXPORT_REMOVED) &&
		       CTRL_SAME(SEALMR_REVOKE_FILE_CHANGED, PROTO_REVOKE_FILE_CHANGED) &&
		       CTRL_SAME(SEALMR_REVOKE_SHUTDOWN, PROTO_REVOKE_SHUTDOWN),
	       "revoke reasons");

#define CTRL_SPIN_MS 20

static char *ctrl_recv_slot(struct sealmr_conn *c, unsigned idx)
{
	return c->ctrl_buf + (size_t)idx * PROTO_MSG_MAX;
}

static char *ctrl_send_slot(struct sealmr_conn *c, unsigned idx)
{
	return c->ctrl_buf + CTRL_SEND_OFF + (size_t)idx * PROTO_MSG_MAX;
}

int ctrl_setup(struct sealmr_conn *c)
{
	c->ctrl_buf = aligned_alloc(4096, CTRL_BUF_SIZE + 4096 - CTRL_BUF_SIZE % 4096);
	if (!c->ctrl_buf)
		return sess_err(c, -ENOMEM, "out of memory for the control buffers");
	memset(c->ctrl_buf, 0, CTRL_BUF_SIZE);
	c->ctrl_mr = FAULT("ctrl.reg_mr", ENOMEM)
			     ? NULL
			     : ibv_reg_mr(c->pd, c->ctrl_buf, CTRL_BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	if (!c->ctrl_mr) {
		int rc = -errno;

		free(c->ctrl_buf);
		c->ctrl_buf = NULL;
		return sess_err(c, rc, "ibv_reg_mr(control buffers, len=%zu): %s%s", CTRL_BUF_SIZE,
				strerror(-rc),
				rc == -ENOMEM || rc == -EPERM ? " (RLIMIT_MEMLOCK too low? ulimit -l)" : "");
	}
	ctrl_reset(c);
	return 0;
}

void ctrl_teardown(struct sealmr_conn *c)
{
	if (c->ctrl_mr)
		ibv_dereg_mr(c->ctrl_mr);
	c->ctrl_mr = NULL;
	free(c->ctrl_buf);
	c->ctrl_buf = NULL;
}

/* A new endpoint starts with every send slot free and nothing in flight. */
void ctrl_reset(struct sealmr_conn *c)
{
	c->nsend_free = 0;
	for (unsigned i = 0; i < SESS_CTRL_SENDS; i++)
		c->send_free[c->nsend_free++] = SESS_CTRL_SENDS - 1 - i;
	c->ctrl_inflight = 0;
	if (c->wait_req_id && !c->wait_done) {
		c->wait_done = true;
		c->wait_err = -ENOTCONN;
	}
	c->atomic_busy = false;
}

static int ctrl_post_recv(struct sealmr_conn *c, unsigned slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)ctrl_recv_slot(c, slot),
		.length = PROTO_MSG_MAX,
		.lkey = c->ctrl_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = WRID(WRID_RECV, slot), .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int rc = FAULT("ctrl.post_recv", ENOMEM) ? ENOMEM : ibv_post_recv(c->qp, &wr, &bad);

	if (rc)
		return -rc;
	c->recvs_posted++;
	return 0;
}

int ctrl_post_recvs(struct sealmr_conn *c)
{
	for (unsigned i = 0; i < SESS_RECVS; i++) {
		int rc = ctrl_post_recv(c, i);

		if (rc)
			return sess_err(c, rc, "ibv_post_recv (control slot %u of %u): %s", i,
					SESS_RECVS, strerror(-rc));
	}
	return 0;
}

static void ctrl_on_revoke(struct sealmr_conn *c, const struct proto_revoke *r)
{
	struct sealmr_grant *g = grant_find(c, r->grant_id);
	char text[PROTO_TEXT_MAX];

	log_escape(r->text, sizeof(r->text), text, sizeof(text));
	LOG_DEBUG("sealmr %s: grant %llu revoked (%s): %s", c->where,
		  (unsigned long long)r->grant_id, proto_revoke_reason_name(r->reason), text);
	if (g)
		grant_revoke(g, r->reason, text);
}

static void ctrl_on_reply(struct sealmr_conn *c, const struct proto_msg *m, int decode_err)
{
	if (c->ctrl_inflight)
		c->ctrl_inflight--;
	if (!c->wait_req_id || m->hdr.req_id != c->wait_req_id || c->wait_done) {
		LOG_DEBUG("sealmr %s: dropping a late %s for request %u", c->where,
			  proto_type_name(m->hdr.type), m->hdr.req_id);
		return;
	}
	c->wait_done = true;
	c->wait_err = decode_err;
	if (!decode_err)
		*c->wait_reply = *m;
}

static void ctrl_on_recv(struct sealmr_conn *c, const struct ibv_wc *wc)
{
	unsigned slot = WRID_INDEX(wc->wr_id);
	struct proto_msg m;
	int rc;

	if (wc->status != IBV_WC_SUCCESS) {
		/* Flushed receives follow any disconnect: nothing to say. */
		if (wc->status != IBV_WC_WR_FLUSH_ERR) {
			char why[128];

			snprintf(why, sizeof(why), "receiving a control message failed: %s",
				 ibv_wc_status_str(wc->status));
			sess_drive(c, SESS_EV_FAILED, -EIO, why);
		}
		return;
	}
	memset(&m.hdr, 0, sizeof(m.hdr));
	rc = proto_decode(ctrl_recv_slot(c, slot), wc->byte_len, &m);
	/* The slot is free again once decoded: repost it at once. */
	if (c->state == SESS_ESTABLISHED) {
		int prc = ctrl_post_recv(c, slot);

		if (prc) {
			char why[128];

			snprintf(why, sizeof(why), "ibv_post_recv: %s", strerror(-prc));
			sess_drive(c, SESS_EV_FAILED, prc, why);
		}
	}
	if (rc) {
		LOG_DEBUG("sealmr %s: bad message (%u bytes, type 0x%x, request %u): %s", c->where,
			  wc->byte_len, m.hdr.type, m.hdr.req_id, strerror(-rc));
		if (wc->byte_len >= PROTO_HDR_SIZE && m.hdr.req_id)
			ctrl_on_reply(c, &m, rc);
		return;
	}
	if (m.hdr.type == PROTO_REVOKE)
		ctrl_on_revoke(c, &m.u.revoke);
	else if (m.hdr.req_id)
		ctrl_on_reply(c, &m, 0);
	else
		LOG_DEBUG("sealmr %s: unsolicited %s ignored", c->where, proto_type_name(m.hdr.type));
}

void ctrl_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc)
{
	if (WRID_KIND(wc->wr_id) == WRID_RECV) {
		ctrl_on_recv(c, wc);
		return;
	}
	c->send_free[c->nsend_free++] = WRID_INDEX(wc->wr_id);
	LOG_DEBUG("sealmr %s: request sent (slot %u): %s", c->where, WRID_INDEX(wc->wr_id),
		  ibv_wc_status_str(wc->status));
	if (wc->status != IBV_WC_SUCCESS && wc->status != IBV_WC_WR_FLUSH_ERR) {
		char why[128];

		snprintf(why, sizeof(why), "sending a request failed: %s",
			 ibv_wc_status_str(wc->status));
		sess_drive(c, SESS_EV_FAILED, -EIO, why);
	}
}

static int ctrl_left_ms(struct sealmr_conn *c, const struct timespec *t0)
{
	int left = c->opts.timeout_ms - util_elapsed_ms(t0);

	return left > 0 ? left : 0;
}

static int ctrl_send(struct sealmr_conn *c, struct proto_msg *req, const char *what,
		     const struct timespec *t0)
{
	struct ibv_send_wr wr = { 0 }, *bad;
	struct ibv_sge sge;
	unsigned slot;
	ssize_t len;
	int rc;

	/* A send slot, one of the daemon's credits, a send-queue entry. */
	while (c->nsend_free == 0 || c->ctrl_inflight >= c->credits || c->sq_used >= SESS_CTRL_SQ) {
		int left = ctrl_left_ms(c, t0);

		if (c->state != SESS_ESTABLISHED)
			return sess_not_connected(c);
		if (left == 0)
			return sess_err(c, -ETIMEDOUT, "%s at %s: no free request credit within %d ms",
					what, c->where, c->opts.timeout_ms);
		rc = sess_progress(c, left);
		if (rc < 0)
			return rc;
	}
	if (++c->next_req_id == 0)
		c->next_req_id = 1;
	req->hdr.req_id = c->next_req_id;
	slot = c->send_free[--c->nsend_free];
	len = proto_encode(req, ctrl_send_slot(c, slot), PROTO_MSG_MAX);
	if (len < 0) {
		c->send_free[c->nsend_free++] = slot;
		return sess_err(c, (int)len, "%s: cannot encode the request: %s", what,
				strerror((int)-len));
	}
	sge.addr = (uintptr_t)ctrl_send_slot(c, slot);
	sge.length = (uint32_t)len;
	sge.lkey = c->ctrl_mr->lkey;
	wr.wr_id = WRID(WRID_CTRL, slot);
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	rc = ibv_post_send(c->qp, &wr, &bad);
	if (rc) {
		c->send_free[c->nsend_free++] = slot;
		return sess_err(c, -rc, "%s at %s: ibv_post_send(%s, %zd bytes): %s", what, c->where,
				proto_type_name(req->hdr.type), len, strerror(rc));
	}
	c->sq_used++;
	c->ctrl_inflight++;
	LOG_DEBUG("sealmr %s: %s %u posted (%zd bytes)", c->where, proto_type_name(req->hdr.type),
		  req->hdr.req_id, len);
	return 0;
}

static int ctrl_wait_reply(struct sealmr_conn *c, const char *what, const struct timespec *t0)
{
	while (!c->wait_done) {
		int left = ctrl_left_ms(c, t0), rc;

		if (c->state != SESS_ESTABLISHED)
			return sess_err(c, -ENOTCONN, "%s at %s: no reply: %s", what, c->where,
					c->broken_why);
		if (left == 0) {
			char why[128];

			/* A daemon that does not answer is as good as gone. */
			snprintf(why, sizeof(why), "no reply from sealmrd within %d ms",
				 c->opts.timeout_ms);
			sess_drive(c, SESS_EV_FAILED, -ETIMEDOUT, why);
			return sess_err(c, -ETIMEDOUT, "%s at %s: %s", what, c->where, why);
		}
		/* A busy-polling caller spins for its reply too, for a while:
		 * long enough for any request, short enough that a link gone
		 * down is still seen by the sleeping wait's port check. */
		rc = sess_progress(c, c->opts.busy_poll && util_elapsed_ms(t0) < CTRL_SPIN_MS ? 0
											   : left);
		if (rc < 0)
			return rc;
	}
	if (c->wait_err)
		return sess_err(c, c->wait_err == -ENOTCONN ? -ENOTCONN : -EPROTO,
				"%s at %s: malformed reply (%s)", what, c->where,
				strerror(-c->wait_err));
	return 0;
}

int ctrl_call(struct sealmr_conn *c, struct proto_msg *req, uint16_t want,
	      struct proto_msg *reply, const char *what)
{
	struct timespec t0;
	int rc = sess_ensure(c);

	if (rc)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ctrl_send(c, req, what, &t0);
	if (rc)
		return rc;
	c->wait_req_id = req->hdr.req_id;
	c->wait_done = false;
	c->wait_err = 0;
	c->wait_reply = reply;
	rc = ctrl_wait_reply(c, what, &t0);
	c->wait_req_id = 0;
	c->wait_reply = NULL;
	if (rc)
		return rc;
	if (reply->hdr.type == PROTO_ERROR) {
		char text[PROTO_TEXT_MAX];
		int err = reply->u.error.err > 0 ? reply->u.error.err : EIO;

		log_escape(reply->u.error.text, sizeof(reply->u.error.text), text, sizeof(text));
		return sess_err(c, -err, "%s at %s: %s", what, c->where,
				text[0] ? text : strerror(err));
	}
	if (reply->hdr.type != want)
		return sess_err(c, -EPROTO, "%s at %s: the daemon answered %s instead of %s", what,
				c->where, proto_type_name(reply->hdr.type), proto_type_name(want));
	return 0;
}

static void ctrl_copy_info(struct sealmr_export_info *to, const struct proto_export_info *from)
{
	memset(to, 0, sizeof(*to));
	snprintf(to->name, sizeof(to->name), "%s", from->name);
	to->size = from->size;
	to->access = from->access;
	to->mode = from->mode;
}

int sealmr_list(struct sealmr_conn *c, struct sealmr_export_info **out, size_t *count)
{
	struct proto_msg *req = FAULT("ctrl.list", ENOMEM) ? NULL : calloc(2, sizeof(*req)), *rep;
	struct sealmr_export_info *all = NULL;
	size_t n = 0;
	uint32_t got;
	int rc = 0;

	if (!req)
		return sess_err(c, -ENOMEM, "list: out of memory");
	rep = req + 1;
	do {
		struct sealmr_export_info *more;

		req->hdr.type = PROTO_LIST_REQ;
		req->u.list_req.start = (uint32_t)n;
		rc = ctrl_call(c, req, PROTO_LIST_RESP, rep, "list");
		if (rc)
			goto err_free;
		got = rep->u.list_resp.count;
		if (got == 0)
			break;
		more =
		    FAULT("ctrl.list_grow", ENOMEM) ? NULL : realloc(all, (n + got) * sizeof(*all));
		if (!more) {
			rc = sess_err(c, -ENOMEM, "list: out of memory");
			goto err_free;
		}
		all = more;
		for (uint32_t i = 0; i < got; i++)
			ctrl_copy_info(&all[n + i], &rep->u.list_resp.exports[i]);
		n += got;
	} while (n < rep->u.list_resp.total);
	free(req);
	sess_run_revoke_cbs(c);
	*out = all;
	*count = n;
	return 0;

err_free:
	free(all);
	free(req);
	sess_run_revoke_cbs(c);
	return rc;
}

int sealmr_stat(struct sealmr_conn *c, const char *name, struct sealmr_stat *out)
{
	struct proto_msg *req = FAULT("ctrl.stat", ENOMEM) ? NULL : calloc(2, sizeof(*req)), *rep;
	const struct proto_stat_resp *s;
	char what[PROTO_NAME_MAX + 16];
	int rc;

	if (!req)
		return sess_err(c, -ENOMEM, "stat: out of memory");
	rep = req + 1;
	s = &rep->u.stat_resp;
	if (strlen(name) >= PROTO_NAME_MAX) {
		free(req);
		return sess_err(c, -ENAMETOOLONG, "stat: export name '%.20s...' is longer than %d bytes",
				name, PROTO_NAME_MAX - 1);
	}
	snprintf(what, sizeof(what), "stat '%s'", name);
	req->hdr.type = PROTO_STAT_REQ;
	snprintf(req->u.stat_req.export, sizeof(req->u.stat_req.export), "%s", name);
	rc = ctrl_call(c, req, PROTO_STAT_RESP, rep, what);
	if (rc == 0) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", s->name);
		snprintf(out->path, sizeof(out->path), "%s", s->path);
		out->size = s->size;
		out->access = s->access;
		out->mode = s->mode;
		out->reg = s->reg;
		out->persist = s->persist;
		out->grants = s->grants;
		out->sealed = s->sealed;
		out->commits = s->commits;
		out->flush_methods = ((s->flush & PROTO_FLUSH_COMMIT) ? SEALMR_FLUSH_COMMIT : 0) |
				     ((s->flush & PROTO_FLUSH_RDMA_FLUSH) ? SEALMR_FLUSH_RDMA_FLUSH : 0);
	}
	free(req);
	sess_run_revoke_cbs(c);
	return rc;
}

/* Programs built against 0.1 or 0.2 pass a struct sealmr_stat without
 * flush_methods (libsealmr.map, SEALMR_0.3). */
int ctrl_stat_0_1(struct sealmr_conn *c, const char *name, void *out);
__asm__(".symver ctrl_stat_0_1, sealmr_stat@SEALMR_0.1");
int ctrl_stat_0_1(struct sealmr_conn *c, const char *name, void *out)
{
	struct sealmr_stat st;
	int rc = sealmr_stat(c, name, &st);

	if (rc == 0)
		memcpy(out, &st, offsetof(struct sealmr_stat, flush_methods));
	return rc;
}
