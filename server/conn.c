/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <event2/event.h>

#include "conn.h"
#include "fault.h"
#include "flush.h"
#include "log.h"
#include "place.h"
#include "server-internal.h"
#include "util.h"

#define CONN_CQ_DEPTH (CONN_RECVS + CONN_SENDS)
#define CONN_ACK_BATCH 16
#define CONN_SPIN_NS 300000ull      /* spin on after the last completion */
#define CONN_SPIN_MAX_NS 5000000ull /* at most, per wake-up */

static char *conn_slot(struct conn *c, unsigned idx)
{
	return c->bufs + (size_t)idx * PROTO_MSG_MAX;
}

const char *conn_state_name(enum conn_state state)
{
	static const char *const names[CONN_STATE_MAX] = {
		"accepting", "established", "stopping", "closing", "gone",
	};
	return state < CONN_STATE_MAX ? names[state] : "?";
}

static int conn_post_recv(struct conn *c, unsigned slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)conn_slot(c, slot),
		.length = PROTO_MSG_MAX,
		.lkey = c->bufs_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge, .num_sge = 1 }, *bad;

	return FAULT("conn.post_recv", ENOMEM) ? -ENOMEM : -ibv_post_recv(c->id->qp, &wr, &bad);
}

int conn_send(struct conn *c, struct proto_msg *msg)
{
	struct ibv_send_wr wr = { 0 }, *bad;
	struct ibv_sge sge;
	ssize_t len;
	int slot, rc;

	if (c->nsend_free == 0) {
		conn_drive(c, CONN_EV_FAILED, "no send slot left (it ignores its credits)");
		return -ENOBUFS;
	}
	slot = c->send_free[--c->nsend_free];
	/* Every message in the version the client connected with. */
	msg->hdr.version = c->version;
	len = proto_encode(msg, conn_slot(c, CONN_RECVS + (unsigned)slot), PROTO_MSG_MAX);
	if (len < 0) {
		LOG_ERR("client %s: cannot encode %s: %s", c->peer,
			proto_type_name(msg->hdr.type), strerror((int)-len));
		c->send_free[c->nsend_free++] = slot;
		return (int)len;
	}
	sge.addr = (uintptr_t)conn_slot(c, CONN_RECVS + (unsigned)slot);
	sge.length = (uint32_t)len;
	sge.lkey = c->bufs_mr->lkey;
	wr.wr_id = CONN_RECVS + (unsigned)slot;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	rc = ibv_post_send(c->id->qp, &wr, &bad);
	if (rc) {
		LOG_ERR("client %s: ibv_post_send(%s, %zd bytes): %s", c->peer,
			proto_type_name(msg->hdr.type), len, strerror(rc));
		c->send_free[c->nsend_free++] = slot;
		return -rc;
	}
	return 0;
}

void conn_error(struct conn *c, uint32_t req_id, int err, const char *fmt, ...)
{
	struct proto_msg m = { .hdr = { .type = PROTO_ERROR, .req_id = req_id } };
	va_list ap;

	m.u.error.err = err;
	va_start(ap, fmt);
	vsnprintf(m.u.error.text, sizeof(m.u.error.text), fmt, ap);
	va_end(ap);
	c->srv->stats.errors++;
	LOG_INFO("client %s: request %u refused: %s (%s)", c->peer, req_id, m.u.error.text,
		 strerror(err));
	conn_send(c, &m);
}

struct grant *conn_find_grant(struct conn *c, uint64_t id)
{
	struct grant *g;

	TAILQ_FOREACH(g, &c->grants, entry)
		if (g->id == id)
			return g;
	return NULL;
}

void conn_drop_grant(struct conn *c, struct grant *g)
{
	TAILQ_REMOVE(&c->grants, g, entry);
	c->ngrants--;
	grant_delete(&g);
}

static void conn_on_wc(struct conn *c, const struct ibv_wc *wc)
{
	char why[96];

	if (wc->wr_id >= CONN_RECVS) {
		c->send_free[c->nsend_free++] = (int)(wc->wr_id - CONN_RECVS);
		if (wc->status != IBV_WC_SUCCESS && wc->status != IBV_WC_WR_FLUSH_ERR) {
			snprintf(why, sizeof(why), "send: %s", ibv_wc_status_str(wc->status));
			conn_drive(c, CONN_EV_FAILED, why);
		}
		if (c->nsend_free == CONN_SENDS)
			conn_drive(c, CONN_EV_SENT, NULL);
		return;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		/* Flushed receives after a disconnect are normal. */
		if (wc->status != IBV_WC_WR_FLUSH_ERR) {
			snprintf(why, sizeof(why), "receive: %s", ibv_wc_status_str(wc->status));
			conn_drive(c, CONN_EV_FAILED, why);
		}
		return;
	}
	/* A client may send its first request as soon as it sees ESTABLISHED,
	 * before our own ESTABLISHED event is read: a received message proves
	 * the connection is up, so it must not be dropped (its slot would never
	 * be reposted and the client would wait for a reply forever). */
	conn_drive(c, CONN_EV_ESTABLISHED, NULL);
	if (c->state != CONN_ESTABLISHED)
		return;
	conn_on_message(c, conn_slot(c, (unsigned)wc->wr_id), wc->byte_len);
	if (c->state == CONN_ESTABLISHED && conn_post_recv(c, (unsigned)wc->wr_id))
		conn_drive(c, CONN_EV_FAILED, "ibv_post_recv failed");
}

static int conn_poll(struct conn *c)
{
	struct ibv_wc wc[16];
	int n, total = 0;

	while ((n = ibv_poll_cq(c->cq, 16, wc)) > 0) {
		for (int i = 0; i < n; i++)
			conn_on_wc(c, &wc[i]);
		total += n;
	}
	return n < 0 ? n : total;
}

/*
 * After activity, a short spin on the CQ (NAPI-style): a client that opens
 * and closes grants one after the other sends its next request about a
 * round trip after our reply, and catching it here saves the sleep and the
 * wake-up (half a millisecond each in the test VM). Idle, nothing spins; a
 * busy client cannot hold the loop longer than CONN_SPIN_MAX_NS.
 */
static void conn_spin(struct conn *c)
{
	uint64_t start = util_now_ns(), last = start, now = start;

	while (now - last < CONN_SPIN_NS && now - start < CONN_SPIN_MAX_NS) {
		if (conn_poll(c) > 0)
			last = now;
		now = util_now_ns();
	}
}

static void conn_on_cq(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct ibv_cq *cq;
	void *ctx;
	int rc;

	/* Drain the channel, ack in batches, re-arm, then poll until empty:
	 * a completion arriving between poll and re-arm raises a new event. */
	while (ibv_get_cq_event(c->chan, &cq, &ctx) == 0) {
		if (++c->cq_unacked >= CONN_ACK_BATCH) {
			ibv_ack_cq_events(c->cq, c->cq_unacked);
			c->cq_unacked = 0;
		}
	}
	rc = ibv_req_notify_cq(c->cq, 0);
	if (rc)
		LOG_ERR("client %s: ibv_req_notify_cq: %s (its completions may go unseen)", c->peer,
			strerror(rc));
	if (conn_poll(c) > 0)
		conn_spin(c);
}

void conn_revoke(struct conn *c, struct grant *g, uint32_t reason, const char *text)
{
	struct proto_msg m = { .hdr = { .type = PROTO_REVOKE, .req_id = 0 } };

	m.u.revoke.grant_id = g->id;
	m.u.revoke.reason = reason;
	snprintf(m.u.revoke.text, sizeof(m.u.revoke.text), "%s", text);
	LOG_NOTICE("client %s: grant %llu on '%s' revoked (%s): %s", c->peer,
		   (unsigned long long)g->id, g->exp->cfg.name, proto_revoke_reason_name(reason),
		   text);
	/* The rkey dies before the client hears of it. */
	conn_drop_grant(c, g);
	c->srv->stats.revokes++;
	if (c->state == CONN_ESTABLISHED)
		conn_send(c, &m);
}

static int conn_create_verbs(struct conn *c)
{
	struct ibv_context *verbs = c->id->verbs;
	struct ibv_qp_init_attr qa = { 0 };
	size_t size = (size_t)(CONN_RECVS + CONN_SENDS) * PROTO_MSG_MAX;
	int rc;

	c->pd = FAULT("conn.alloc_pd", ENOMEM) ? NULL : ibv_alloc_pd(verbs);
	if (!c->pd)
		return -errno;
	c->chan = FAULT("conn.comp_channel", ENOMEM) ? NULL : ibv_create_comp_channel(verbs);
	if (!c->chan)
		return -errno;
	if (fcntl(c->chan->fd, F_SETFL, fcntl(c->chan->fd, F_GETFL) | O_NONBLOCK))
		return -errno;
	c->cq = FAULT("conn.create_cq", ENOMEM) ? NULL
						: ibv_create_cq(verbs, CONN_CQ_DEPTH, c, c->chan, 0);
	if (!c->cq)
		return -errno;
	rc = ibv_req_notify_cq(c->cq, 0);
	if (rc)
		return -rc;
	c->bufs = aligned_alloc(4096, size);
	if (!c->bufs)
		return -ENOMEM;
	c->bufs_mr = FAULT("conn.reg_bufs", ENOMEM) ? NULL
						    : ibv_reg_mr(c->pd, c->bufs, size, IBV_ACCESS_LOCAL_WRITE);
	if (!c->bufs_mr)
		return -errno;
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = CONN_SENDS;
	qa.cap.max_recv_wr = CONN_RECVS;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (FAULT("conn.create_qp", ENOMEM) || rdma_create_qp(c->id, c->pd, &qa))
		return -errno;
	for (unsigned i = 0; i < CONN_RECVS; i++)
		if ((rc = conn_post_recv(c, i)))
			return rc;
	for (int i = 0; i < CONN_SENDS; i++)
		c->send_free[c->nsend_free++] = CONN_SENDS - 1 - i;
	return 0;
}

int conn_accept_id(struct rdma_cm_id *id, const void *priv, uint8_t len)
{
	struct ibv_device_attr attr;
	struct rdma_conn_param param = { 0 };

	if (ibv_query_device(id->verbs, &attr))
		attr.max_qp_rd_atom = attr.max_qp_init_rd_atom = 16;
	param.private_data = priv;
	param.private_data_len = len;
	/* Clients do RDMA READ into us: let them have the device's depth. */
	param.responder_resources = (uint8_t)(attr.max_qp_rd_atom < 16 ? attr.max_qp_rd_atom : 16);
	param.initiator_depth = (uint8_t)(attr.max_qp_init_rd_atom < 16 ? attr.max_qp_init_rd_atom : 16);
	param.rnr_retry_count = 7;
	if (FAULT("conn.accept", EIO) || rdma_accept(id, &param))
		return -errno;
	return 0;
}

void conn_reject(struct rdma_cm_id *id, int status, const char *why)
{
	struct proto_conn_priv priv = { .version = PROTO_VERSION, .status = status,
					.max_msg = PROTO_MSG_MAX };
	uint8_t pd[PROTO_CONN_PRIV_SIZE];

	proto_conn_priv_encode(&priv, pd);
	LOG_NOTICE("connection refused: %s", why);
	rdma_reject(id, pd, sizeof(pd));
}

/* A version 3 accept hands out the session and its token as well. */
static int conn_accept(struct conn *c)
{
	struct proto_conn_priv priv = {
		.version = c->version,
		.credits = CONN_RECVS,
		.max_msg = PROTO_MSG_MAX,
	};
	struct proto_session_priv sp = {
		.session = c->serial,
		.token = c->token,
		.qps = PROTO_SESSION_QPS_MAX,
	};
	uint8_t pd[PROTO_CONN_PRIV_V3_SIZE];

	proto_conn_priv_encode(&priv, pd);
	if (c->version < 3)
		return conn_accept_id(c->id, pd, PROTO_CONN_PRIV_SIZE);
	proto_session_priv_encode(&sp, pd);
	return conn_accept_id(c->id, pd, sizeof(pd));
}

/* The token: 64 bits nobody but the client on the control QP is told. */
static int conn_new_token(uint64_t *out)
{
	do {
		if (getrandom(out, sizeof(*out), 0) != sizeof(*out))
			return -errno;
	} while (*out == 0);
	return 0;
}

int conn_new(struct server *srv, struct rdma_cm_id *id, uint16_t version, uint16_t peer_credits,
	     struct conn **out)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);
	struct conn *c = FAULT("conn.new", ENOMEM) ? NULL : calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->id = id;
	c->serial = ++srv->next_conn_serial;
	c->peer_credits = peer_credits;
	c->version = version;
	c->place = place_of_odp(id->verbs);
	c->flush_caps = flush_caps_of(id->verbs, NULL, 0);
	c->state = CONN_ACCEPTING;
	c->kind = CONN_EP_CONTROL;
	TAILQ_INIT(&c->grants);
	TAILQ_INIT(&c->data);
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		c->peer_addr = sin->sin_addr;
		inet_ntop(AF_INET, &sin->sin_addr, c->peer, sizeof(c->peer));
		snprintf(c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), ":%u",
			 ntohs(sin->sin_port));
	} else {
		snprintf(c->peer, sizeof(c->peer), "(family %d)", sa->sa_family);
	}
	id->context = c;
	rc = conn_new_token(&c->token);
	if (rc) {
		LOG_ERR("client %s: getrandom (session token): %s", c->peer, strerror(-rc));
		goto err_delete;
	}
	rc = conn_create_verbs(c);
	if (rc) {
		LOG_ERR("client %s: setting up verbs on %s: %s", c->peer,
			ibv_get_device_name(id->verbs->device), strerror(-rc));
		goto err_delete;
	}
	c->cq_ev = FAULT("conn.cq_event", ENOMEM)
		       ? NULL
		       : event_new(srv->base, c->chan->fd, EV_READ | EV_PERSIST, conn_on_cq, c);
	if (!c->cq_ev || event_add(c->cq_ev, NULL)) {
		rc = -ENOMEM;
		goto err_delete;
	}
	rc = conn_accept(c);
	if (rc) {
		LOG_ERR("client %s: rdma_accept: %s", c->peer, strerror(-rc));
		goto err_delete;
	}
	*out = c;
	return 0;

err_delete:
	/* The caller still owns id: rejecting and destroying it is its job. */
	c->id = NULL;
	id->context = NULL;
	if (id->qp)
		rdma_destroy_qp(id);
	conn_delete(&c);
	return rc;
}

static void conn_log_established(struct conn *c)
{
	c->connected_ns = util_now_ns();
	LOG_INFO("client %s: connected (conn %llu, %s, protocol version %u, %s placement)",
		 c->peer, (unsigned long long)c->serial, ibv_get_device_name(c->id->verbs->device),
		 c->version, c->place == PROTO_PLACE_EXACT ? "exact" : "page");
}

/* The disconnect that ends a connection we end: the rdma_cm then says
 * DISCONNECTED, which makes it GONE. */
static void conn_close(struct conn *c, const char *why)
{
	if (why)
		LOG_WARN("client %s: %s; disconnecting", c->peer, why);
	c->state = CONN_CLOSING;
	rdma_disconnect(c->id);
}

/*
 * The one place a connection's state changes.
 *
 *   ACCEPTING -> ESTABLISHED   the rdma_cm's ESTABLISHED, or a first message
 *   ESTABLISHED -> STOPPING    the daemon stops: every grant revoked, the
 *                              REVOKEs on their way
 *   STOPPING -> CLOSING        the last send came back: disconnect
 *   any live -> CLOSING        the client misbehaved or its QP failed
 *   any -> GONE                the rdma_cm says it is disconnected: the
 *                              server frees it (server_drop_conn)
 */
void conn_drive(struct conn *c, enum conn_event ev, const char *why)
{
	enum conn_state old = c->state;

	switch (ev) {
	case CONN_EV_ESTABLISHED:
		if (c->state != CONN_ACCEPTING)
			break;
		c->state = CONN_ESTABLISHED;
		conn_log_established(c);
		break;
	case CONN_EV_STOP:
		if (c->state != CONN_ACCEPTING && c->state != CONN_ESTABLISHED)
			break;
		conn_revoke_export(c, NULL, PROTO_REVOKE_SHUTDOWN, "sealmrd is shutting down");
		c->state = CONN_STOPPING;
		if (c->nsend_free == CONN_SENDS)
			conn_close(c, NULL);
		break;
	case CONN_EV_SENT:
		if (c->state == CONN_STOPPING)
			conn_close(c, NULL);
		break;
	case CONN_EV_FAILED:
		if (c->state == CONN_ACCEPTING || c->state == CONN_ESTABLISHED ||
		    c->state == CONN_STOPPING)
			conn_close(c, why);
		break;
	case CONN_EV_DISCONNECTED:
		if (c->state == CONN_GONE)
			break;
		/* The peer ended it: our side of the disconnect is still due. */
		if (c->state != CONN_CLOSING)
			rdma_disconnect(c->id);
		if (why)
			LOG_WARN("client %s: %s", c->peer, why);
		c->state = CONN_GONE;
		break;
	default:
		break;
	}
	if (old != c->state)
		LOG_DEBUG("client %s: %s -> %s", c->peer, conn_state_name(old),
			  conn_state_name(c->state));
}

void conn_delete(struct conn **pc)
{
	struct conn *c = *pc;
	struct conn_data *d;
	struct grant *g;

	if (!c)
		return;
	/* Its data QPs first: they hang off its PD and CQ. */
	while ((d = TAILQ_FIRST(&c->data)))
		conn_data_delete(&d);
	while ((g = TAILQ_FIRST(&c->grants)))
		conn_drop_grant(c, g);
	if (c->cq_ev)
		event_free(c->cq_ev);
	if (c->id) {
		if (c->id->qp)
			rdma_destroy_qp(c->id);
		rdma_destroy_id(c->id);
	}
	if (c->bufs_mr)
		ibv_dereg_mr(c->bufs_mr);
	free(c->bufs);
	if (c->cq) {
		if (c->cq_unacked)
			ibv_ack_cq_events(c->cq, c->cq_unacked);
		ibv_destroy_cq(c->cq);
	}
	if (c->chan)
		ibv_destroy_comp_channel(c->chan);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	free(c);
	*pc = NULL;
}
