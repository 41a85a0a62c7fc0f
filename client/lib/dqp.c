/* SPDX-License-Identifier: MIT */
/*
 * dqp: the session's data queue pairs. Each is an rdma_cm connection of its
 * own that joins the session with the token of the control connection's
 * accept, from the control endpoint's own source address (the daemon checks
 * both), on the session's PD and CQ. A data QP that fails (a remote access
 * error, a flush, a disconnect) drains what was posted on it, is destroyed
 * and comes back in the background, driven by rdma_cm events read wherever
 * the connection progresses; the records that its failure flushed went to
 * the others meanwhile (wr.c). dqp_drive() is the one place its state
 * changes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

const char *dqp_state_name(enum dqp_state state)
{
	static const char *const names[DQP_STATE_MAX] = {
		"idle", "resolving", "connecting", "up", "draining", "dead",
	};
	return state < DQP_STATE_MAX ? names[state] : "?";
}

static int dqp_create_qp(struct sealmr_conn *c, struct dqp *q)
{
	struct ibv_qp_init_attr_ex qa = { 0 };

	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = c->dsq_size;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.comp_mask = IBV_QP_INIT_ATTR_PD;
	qa.pd = c->pd;
	q->qpx = NULL;
#if HAVE_DECL_IBV_WR_ATOMIC_WRITE
	qa.comp_mask |= IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	qa.send_ops_flags = IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_READ |
			    IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
			    IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD | IBV_QP_EX_WITH_ATOMIC_WRITE;
#if HAVE_DECL_IBV_WR_FLUSH
	qa.send_ops_flags |= IBV_QP_EX_WITH_FLUSH;
#endif
	/* A QP without the extended operations still carries the rest. */
	if (!FAULT("dqp.create_qp", ENOMEM) && rdma_create_qp_ex(q->id, &qa) == 0) {
		q->qp = q->id->qp;
		q->qpx = ibv_qp_to_qp_ex(q->qp);
		return 0;
	}
	/* Extended requests go only to data QPs that have them (dqp_pick):
	 * this says why, when none has (dqp_ext_why). */
	snprintf(c->atomic_write_why, sizeof(c->atomic_write_why),
		 "%s cannot make a QP with atomic write (ibv_create_qp_ex: %s)",
		 ibv_get_device_name(c->verbs->device), strerror(errno));
	qa.comp_mask &= ~(uint32_t)IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	qa.send_ops_flags = 0;
#else
	snprintf(c->atomic_write_why, sizeof(c->atomic_write_why),
		 "this libibverbs has no ibv_wr_atomic_write");
#endif
	if (FAULT("dqp.create_qp_plain", ENOMEM) || rdma_create_qp_ex(q->id, &qa))
		return -errno;
	q->qp = q->id->qp;
	return 0;
}

static int dqp_join(struct sealmr_conn *c, struct dqp *q)
{
	struct proto_conn_priv priv = {
		.version = PROTO_VERSION,
		.max_msg = PROTO_MSG_MAX,
	};
	struct proto_session_priv sp = {
		.session = c->session,
		.token = c->token,
		.qps = (uint16_t)q->idx,
	};
	uint8_t pd[PROTO_CONN_PRIV_V3_SIZE];
	struct rdma_conn_param param;

	proto_conn_priv_encode(&priv, pd);
	proto_session_priv_encode(&sp, pd);
	sess_param_fill(c, &param, pd, sizeof(pd));
	return (FAULT("dqp.connect", EIO) || rdma_connect(q->id, &param)) ? -errno : 0;
}

/* What a refused join means; the daemon's log says more. */
static void dqp_rejected(struct sealmr_conn *c, struct dqp *q, const void *priv, uint8_t len,
			 int *err, char *why, size_t whylen)
{
	struct proto_conn_priv p;
	const char *pre = "sealmrd refused data QP";

	if (proto_conn_priv_decode(priv, len, &p) || p.status <= 0) {
		*err = -ECONNREFUSED;
		snprintf(why, whylen, "%s %u: no sealmr reject data", pre, q->idx);
		return;
	}
	*err = -p.status;
	switch (p.status) {
	case ESTALE:
		snprintf(why, whylen, "%s %u: session %llu is not open there (any more)", pre,
			 q->idx, (unsigned long long)c->session);
		break;
	case EPERM:
		snprintf(why, whylen, "%s %u: the session's token does not match", pre, q->idx);
		break;
	case EACCES:
		snprintf(why, whylen, "%s %u: joined from another address than the session's",
			 pre, q->idx);
		break;
	case EXDEV:
		snprintf(why, whylen, "%s %u: it arrived on another RDMA device than the session",
			 pre, q->idx);
		break;
	case EMLINK:
		snprintf(why, whylen, "%s %u: the session has as many data QPs as it may", pre,
			 q->idx);
		break;
	default:
		snprintf(why, whylen, "%s %u: %s", pre, q->idx, strerror(p.status));
		break;
	}
}

/* Releases the endpoint; what was posted on it has come back. */
static void dqp_destroy(struct dqp *q)
{
	if (q->qp) {
		rdma_destroy_qp(q->id);
		q->qp = NULL;
		q->qpx = NULL;
	}
	if (q->id) {
		rdma_destroy_id(q->id);
		q->id = NULL;
	}
	q->sq_used = 0;
}

static int dqp_start(struct sealmr_conn *c, struct dqp *q, char *why, size_t whylen)
{
	struct sockaddr *src = rdma_get_local_addr(c->id), *dst = rdma_get_peer_addr(c->id);
	struct sockaddr_storage from;

	if (FAULT("dqp.create_id", ENOMEM) || rdma_create_id(c->cm_chan, &q->id, q, RDMA_PS_TCP)) {
		snprintf(why, whylen, "data QP %u: rdma_create_id: %s", q->idx, strerror(errno));
		return -errno;
	}
	/* From the control endpoint's address, any port: the daemon accepts
	 * a join only from the session's own address. */
	memcpy(&from, src, src->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						      : sizeof(struct sockaddr_in));
	if (from.ss_family == AF_INET)
		((struct sockaddr_in *)&from)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&from)->sin6_port = 0;
	if (FAULT("dqp.resolve_addr", EIO) ||
	    rdma_resolve_addr(q->id, (struct sockaddr *)&from, dst, c->opts.timeout_ms)) {
		snprintf(why, whylen, "data QP %u: rdma_resolve_addr: %s", q->idx, strerror(errno));
		return -errno;
	}
	return 0;
}

static int dqp_on_route(struct sealmr_conn *c, struct dqp *q, char *why, size_t whylen)
{
	int rc;

	if (q->id->verbs != c->verbs) {
		snprintf(why, whylen, "data QP %u: the route goes through %s, the session's through %s",
			 q->idx, ibv_get_device_name(q->id->verbs->device),
			 ibv_get_device_name(c->verbs->device));
		return -ENODEV;
	}
	rc = dqp_create_qp(c, q);
	if (rc) {
		snprintf(why, whylen, "data QP %u: rdma_create_qp(send %u): %s", q->idx, c->dsq_size,
			 strerror(-rc));
		return rc;
	}
	rc = dqp_join(c, q);
	if (rc)
		snprintf(why, whylen, "data QP %u: rdma_connect: %s", q->idx, strerror(-rc));
	return rc;
}

/* Down for good (the session ends) or only until drained and rebuilt. */
static void dqp_fail(struct sealmr_conn *c, struct dqp *q, int err, const char *why)
{
	q->err = err;
	snprintf(q->why, sizeof(q->why), "%s", why ? why : "failed");
	if (q->qp) {
		struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };

		ibv_modify_qp(q->qp, &qa, IBV_QP_STATE);
	}
	if (q->id)
		rdma_disconnect(q->id);
	q->state = DQP_DRAINING;
}

/* After the drain: rebuilt while the session lives, unless it keeps failing. */
static void dqp_after_drain(struct sealmr_conn *c, struct dqp *q)
{
	char why[SESS_ERRMSG_MAX];
	int rc;

	dqp_destroy(q);
	q->state = DQP_IDLE;
	if (q->stopping || c->state != SESS_ESTABLISHED)
		return;
	if (++q->fails >= DQP_MAX_FAILS) {
		q->state = DQP_DEAD;
		LOG_INFO("sealmr %s: data QP %u stays down after %u failures: %s", c->where, q->idx,
			 q->fails, q->why);
		if (!dqp_any_alive(c))
			wr_fail_parked(c, dqp_none_err(c));
		return;
	}
	q->restarts++;
	LOG_DEBUG("sealmr %s: data QP %u comes back (%s)", c->where, q->idx, q->why);
	rc = dqp_start(c, q, why, sizeof(why));
	if (rc)
		dqp_drive(c, q, DQP_EV_FAILED, rc, why);
	else
		q->state = DQP_RESOLVING;
}

void dqp_drive(struct sealmr_conn *c, struct dqp *q, enum dqp_event ev, int err, const char *why)
{
	enum dqp_state old = q->state;
	char msg[SESS_ERRMSG_MAX];
	int rc = 0;

	msg[0] = '\0';
	switch (ev) {
	case DQP_EV_START:
		if (q->state != DQP_IDLE && q->state != DQP_DEAD)
			break;
		q->stopping = false;
		q->fails = 0;
		rc = dqp_start(c, q, msg, sizeof(msg));
		q->state = DQP_RESOLVING;
		break;
	case DQP_EV_ADDR_RESOLVED:
		if (q->state != DQP_RESOLVING)
			break;
		if (FAULT("dqp.resolve_route", EIO) ||
		    rdma_resolve_route(q->id, c->opts.timeout_ms)) {
			rc = -errno;
			snprintf(msg, sizeof(msg), "data QP %u: rdma_resolve_route: %s", q->idx,
				 strerror(errno));
		}
		break;
	case DQP_EV_ROUTE_RESOLVED:
		if (q->state != DQP_RESOLVING)
			break;
		rc = dqp_on_route(c, q, msg, sizeof(msg));
		q->state = DQP_CONNECTING;
		break;
	case DQP_EV_ESTABLISHED:
		if (q->state != DQP_CONNECTING)
			break;
		q->state = DQP_UP;
		q->fails = 0;
		q->err = 0;
		q->why[0] = '\0';
		wr_post_parked(c);
		break;
	case DQP_EV_FAILED:
		if (q->state == DQP_RESOLVING || q->state == DQP_CONNECTING || q->state == DQP_UP)
			dqp_fail(c, q, err, why);
		if (q->state == DQP_DRAINING && q->sq_used == 0)
			dqp_after_drain(c, q);
		break;
	case DQP_EV_DRAINED:
		if (q->state == DQP_DRAINING)
			dqp_after_drain(c, q);
		break;
	case DQP_EV_STOP:
		q->stopping = true;
		if (q->state == DQP_DEAD)
			q->state = DQP_IDLE;
		if (q->state == DQP_RESOLVING || q->state == DQP_CONNECTING || q->state == DQP_UP)
			dqp_fail(c, q, err, why);
		if (q->state == DQP_DRAINING && q->sq_used == 0)
			dqp_after_drain(c, q);
		break;
	default:
		break;
	}
	if (rc)
		dqp_drive(c, q, DQP_EV_FAILED, rc, msg);
	if (old != q->state)
		LOG_DEBUG("sealmr %s: data QP %u: %s -> %s%s%s", c->where, q->idx,
			  dqp_state_name(old), dqp_state_name(q->state), q->why[0] ? ": " : "",
			  q->why);
}

bool dqp_on_cm(struct sealmr_conn *c, struct rdma_cm_id *id, enum rdma_cm_event_type type,
	       int status, const void *priv, uint8_t priv_len)
{
	struct dqp *q = NULL;
	char why[SESS_ERRMSG_MAX];
	int err;

	for (unsigned i = 0; i < c->nqps && !q; i++)
		if (c->dq[i].id && c->dq[i].id == id)
			q = &c->dq[i];
	if (!q)
		return false;
	switch (type) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		dqp_drive(c, q, DQP_EV_ADDR_RESOLVED, 0, NULL);
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		dqp_drive(c, q, DQP_EV_ROUTE_RESOLVED, 0, NULL);
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		dqp_drive(c, q, DQP_EV_ESTABLISHED, 0, NULL);
		break;
	case RDMA_CM_EVENT_REJECTED:
		dqp_rejected(c, q, priv, priv_len, &err, why, sizeof(why));
		dqp_drive(c, q, DQP_EV_FAILED, err, why);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		snprintf(why, sizeof(why), "data QP %u: sealmrd closed it", q->idx);
		dqp_drive(c, q, DQP_EV_FAILED, -ECONNRESET, why);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		snprintf(why, sizeof(why), "data QP %u: %s (status %d)", q->idx,
			 rdma_event_str(type), status);
		dqp_drive(c, q, DQP_EV_FAILED, -EHOSTUNREACH, why);
		break;
	default:
		break;
	}
	return true;
}

struct dqp *dqp_pick(struct sealmr_conn *c, bool ext)
{
	for (unsigned n = 0; n < c->nqps; n++) {
		struct dqp *q = &c->dq[c->dq_next];

		c->dq_next = (c->dq_next + 1) % c->nqps;
		if (q->state == DQP_UP && (!ext || q->qpx))
			return q;
	}
	return NULL;
}

unsigned dqp_count_up(const struct sealmr_conn *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nqps; i++)
		n += c->dq[i].state == DQP_UP;
	return n;
}

static bool dqp_alive(const struct dqp *q)
{
	return q->state == DQP_UP || q->state == DQP_RESOLVING || q->state == DQP_CONNECTING ||
	       (q->state == DQP_DRAINING && !q->stopping && q->fails + 1 < DQP_MAX_FAILS);
}

bool dqp_any_alive(const struct sealmr_conn *c)
{
	for (unsigned i = 0; i < c->nqps; i++)
		if (dqp_alive(&c->dq[i]))
			return true;
	return false;
}

/*
 * Why no atomic write or RDMA FLUSH can go: "" while a data QP that has
 * the extended operations is up or coming back (a QP made again on a
 * reconnect makes its own attempt), else the last QP's reason.
 */
const char *dqp_ext_why(const struct sealmr_conn *c)
{
	for (unsigned i = 0; i < c->nqps; i++)
		if (c->dq[i].qpx && dqp_alive(&c->dq[i]))
			return "";
	if (c->atomic_write_why[0])
		return c->atomic_write_why;
	return dqp_any_alive(c) ? "no data QP with the extended operations is up"
				: "no data QP is up";
}

/* The first data QP's reason for being down: what the user gets told. */
static const char *dqp_first_why(const struct sealmr_conn *c, const char *none)
{
	for (unsigned i = 0; i < c->nqps; i++)
		if (c->dq[i].why[0])
			return c->dq[i].why;
	return none;
}

int dqp_none_err(struct sealmr_conn *c)
{
	return sess_err(c, -ENOTCONN, "no data queue pair to sealmrd at %s is up: %s", c->where,
			dqp_first_why(c, "none came up"));
}

int dqp_connect_all(struct sealmr_conn *c, const struct timespec *t0)
{
	bool waiting = true;

	for (unsigned i = 0; i < c->nqps; i++)
		dqp_drive(c, &c->dq[i], DQP_EV_START, 0, NULL);
	while (waiting) {
		int left = c->opts.timeout_ms - util_elapsed_ms(t0);

		waiting = false;
		for (unsigned i = 0; i < c->nqps; i++)
			waiting |= c->dq[i].state != DQP_UP && c->dq[i].state != DQP_DEAD &&
				   c->dq[i].state != DQP_IDLE;
		if (!waiting)
			break;
		if (left <= 0 || c->state != SESS_ESTABLISHED)
			break;
		sess_progress(c, left);
	}
	if (dqp_count_up(c) == 0)
		return sess_err(c, -ENOTCONN, "cannot connect to sealmrd at %s: %s", c->where,
				dqp_first_why(c, "no data queue pair came up in time"));
	return 0;
}

void dqp_stop_all(struct sealmr_conn *c, int err, const char *why)
{
	for (unsigned i = 0; i < c->nqps; i++)
		dqp_drive(c, &c->dq[i], DQP_EV_STOP, err, why);
}

void dqp_delete_all(struct sealmr_conn *c)
{
	for (unsigned i = 0; i < c->nqps; i++) {
		dqp_destroy(&c->dq[i]);
		c->dq[i].state = DQP_IDLE;
	}
}
