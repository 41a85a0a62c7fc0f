/* SPDX-License-Identifier: MIT */
/*
 * sess: connecting to sealmrd, the session's state, reconnecting and
 * disconnecting. The resources that outlive a reconnect (PD, CQ, buffers)
 * are made once; the control endpoint (rdma_cm id and QP) is made per
 * connection, and the data QPs (dqp.c) join the session it opens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

/* What sess_wait_cm() keeps of an rdma_cm event: it is acked at once. */
struct cm_copy {
	enum rdma_cm_event_type type;
	int status;
	uint8_t priv[255];
	uint8_t priv_len;
};

const char *sess_state_name(enum sess_state state)
{
	static const char *const names[SESS_STATE_MAX] = {
		"idle", "connecting", "established", "broken",
	};
	return state < SESS_STATE_MAX ? names[state] : "?";
}

/*
 * The one place the state changes. A failure or a disconnect of a live
 * connection moves its QP to the error state (rdma_disconnect), which
 * flushes whatever is still posted; the first reason is the one kept.
 */
void sess_drive(struct sealmr_conn *c, enum sess_event ev, int err, const char *why)
{
	enum sess_state old = c->state;

	switch (ev) {
	case SESS_EV_CONNECTING:
		c->state = SESS_CONNECTING;
		break;
	case SESS_EV_ESTABLISHED:
		c->state = SESS_ESTABLISHED;
		c->broken_err = 0;
		c->broken_why[0] = '\0';
		break;
	case SESS_EV_FAILED:
	case SESS_EV_DISCONNECTED:
		if (c->state != SESS_ESTABLISHED && c->state != SESS_CONNECTING)
			break;
		c->state = SESS_BROKEN;
		c->broken_err = err;
		snprintf(c->broken_why, sizeof(c->broken_why), "%s", why);
		if (c->qp) {
			struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };

			ibv_modify_qp(c->qp, &qa, IBV_QP_STATE);
		}
		if (c->id)
			rdma_disconnect(c->id);
		/* The session is gone with its control QP: so are its data QPs,
		 * and what they carried fails with the session's reason. */
		dqp_stop_all(c, err, why);
		wr_fail_parked(c, -ENOTCONN);
		break;
	case SESS_EV_TORN_DOWN:
		c->state = SESS_IDLE;
		break;
	default:
		break;
	}
	if (old != c->state)
		LOG_DEBUG("sealmr %s: %s -> %s%s%s", c->where, sess_state_name(old),
			  sess_state_name(c->state), why ? ": " : "", why ? why : "");
}

int sess_not_connected(struct sealmr_conn *c)
{
	/* A link that is down is worth its own errno: it may come back. So is
	 * a connection that died of a remote access error: the operation that
	 * hit it may not be the one that reports it (async slots, a second
	 * call), and the caller must still learn that a grant was refused. */
	return sess_err(c, c->broken_err == -ENETDOWN || c->broken_err == -EACCES ? c->broken_err
										  : -ENOTCONN,
			"not connected to sealmrd at %s: %s", c->where,
			c->broken_why[0] ? c->broken_why : "the connection is closed");
}

static int sess_wait_cm(struct sealmr_conn *c, const struct timespec *t0, struct cm_copy *out)
{
	for (;;) {
		struct rdma_cm_event *ev;
		struct pollfd pfd = { .fd = c->cm_chan->fd, .events = POLLIN };
		int left;

		if (rdma_get_cm_event(c->cm_chan, &ev) == 0) {
			bool mine = ev->id == c->id;

			out->type = ev->event;
			out->status = ev->status;
			out->priv_len = 0;
			if (ev->param.conn.private_data && ev->param.conn.private_data_len) {
				out->priv_len = ev->param.conn.private_data_len;
				memcpy(out->priv, ev->param.conn.private_data, out->priv_len);
			}
			rdma_ack_cm_event(ev);
			if (mine)
				return 0;
			continue; /* left over from an endpoint gone */
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		left = c->opts.timeout_ms - util_elapsed_ms(t0);
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

/* Waits for the event that ends a step of the connection set-up. */
static int sess_expect(struct sealmr_conn *c, const struct timespec *t0,
		       enum rdma_cm_event_type want, const char *step, struct cm_copy *ev)
{
	int rc = sess_wait_cm(c, t0, ev);

	if (rc == -ETIMEDOUT)
		return sess_err(c, rc, "cannot connect to sealmrd at %s: no answer within %d ms (%s)",
				c->where, c->opts.timeout_ms, step);
	if (rc)
		return sess_err(c, rc, "cannot connect to sealmrd at %s: rdma_get_cm_event: %s",
				c->where, strerror(-rc));
	if (ev->type == want)
		return 0;
	switch (ev->type) {
	case RDMA_CM_EVENT_ADDR_ERROR:
		return sess_err(c, -EHOSTUNREACH,
				"cannot connect to sealmrd at %s: no RDMA device has a route to it (%s)",
				c->where, strerror(ev->status < 0 ? -ev->status : EHOSTUNREACH));
	case RDMA_CM_EVENT_ROUTE_ERROR:
		return sess_err(c, -EHOSTUNREACH,
				"cannot connect to sealmrd at %s: no RDMA route (%s)", c->where,
				strerror(ev->status < 0 ? -ev->status : EHOSTUNREACH));
	case RDMA_CM_EVENT_UNREACHABLE:
		return sess_err(c, -EHOSTUNREACH,
				"sealmrd at %s is unreachable: no answer to the connection request",
				c->where);
	case RDMA_CM_EVENT_CONNECT_ERROR:
		return sess_err(c, -ECONNREFUSED,
				"cannot connect to sealmrd at %s: connection error (status %d)",
				c->where, ev->status);
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return sess_err(c, -ENODEV, "cannot connect to sealmrd at %s: RDMA device removed",
				c->where);
	default:
		return sess_err(c, -EPROTO, "cannot connect to sealmrd at %s: unexpected %s during %s",
				c->where, rdma_event_str(ev->type), step);
	}
}

static int sess_rejected(struct sealmr_conn *c, const struct cm_copy *ev)
{
	struct proto_conn_priv p;
	const char *pre = "refused the connection";

	if (proto_conn_priv_decode(ev->priv, ev->priv_len, &p) || p.status <= 0)
		return sess_err(c, -ECONNREFUSED,
				"sealmrd at %s %s: nothing accepts connections on port %u "
				"(reject reason %d)", c->where, pre, c->port, ev->status);
	switch (p.status) {
	case EPROTONOSUPPORT:
		return sess_err(c, -EPROTONOSUPPORT,
				"sealmrd at %s %s: it speaks protocol version %u, this client %u",
				c->where, pre, p.version, PROTO_VERSION);
	case EACCES:
		return sess_err(c, -EACCES,
				"sealmrd at %s %s: this client's address is in no export's clients list",
				c->where, pre);
	case ESHUTDOWN:
		return sess_err(c, -ESHUTDOWN, "sealmrd at %s %s: it is shutting down", c->where, pre);
	case EUSERS:
		return sess_err(c, -EUSERS, "sealmrd at %s %s: too many clients (max_clients)",
				c->where, pre);
	default:
		return sess_err(c, -p.status, "sealmrd at %s %s: %s", c->where, pre,
				strerror(p.status));
	}
}

static int sess_established(struct sealmr_conn *c, const struct cm_copy *ev)
{
	struct proto_conn_priv p;
	struct proto_session_priv sp;

	if (proto_conn_priv_decode(ev->priv, ev->priv_len, &p))
		return sess_err(c, -EPROTO,
				"%s accepted the connection without sealmr's connection data: "
				"is sealmrd listening there?", c->where);
	if (p.version != PROTO_VERSION)
		return sess_err(c, -EPROTONOSUPPORT,
				"sealmrd at %s speaks protocol version %u, this client %u", c->where,
				p.version, PROTO_VERSION);
	if (proto_session_priv_decode(ev->priv, ev->priv_len, &sp) || !sp.session || !sp.token)
		return sess_err(c, -EPROTO, "sealmrd at %s accepted version %u without a session",
				c->where, p.version);
	c->session = sp.session;
	c->token = sp.token;
	if (sp.qps < c->nqps) {
		LOG_INFO("sealmr %s: the daemon takes %u data QPs per session, not %u", c->where,
			 sp.qps, c->nqps);
		c->nqps = sp.qps ? sp.qps : 1;
	}
	c->credits = p.credits ? p.credits : 1;
	sess_drive(c, SESS_EV_ESTABLISHED, 0, NULL);
	quirk_setup(c);
	return 0;
}

/* The control QP: SEND and RECV only, so no remote access error reaches it. */
static int sess_create_qp(struct sealmr_conn *c)
{
	struct ibv_qp_init_attr qa = { 0 };

	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = SESS_CTRL_SQ;
	qa.cap.max_recv_wr = SESS_RECVS;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (FAULT("sess.create_qp", ENOMEM) || rdma_create_qp(c->id, c->pd, &qa))
		return sess_err(c, -errno, "cannot connect to sealmrd at %s: rdma_create_qp(send %u, "
				"recv %u): %s", c->where, SESS_CTRL_SQ, SESS_RECVS, strerror(errno));
	c->qp = c->id->qp;
	return 0;
}

/* The resources that outlive reconnects, made on the first route found. */
static int sess_setup_verbs(struct sealmr_conn *c)
{
	struct ibv_device_attr attr;
	int rc;

	c->verbs = c->id->verbs;
	if (ibv_query_device(c->verbs, &attr))
		attr.max_qp_rd_atom = attr.max_qp_init_rd_atom = SESS_RD_ATOM_MAX;
	c->resp_res = (uint8_t)(attr.max_qp_rd_atom < SESS_RD_ATOM_MAX ? attr.max_qp_rd_atom
								  : SESS_RD_ATOM_MAX);
	c->init_depth = (uint8_t)(attr.max_qp_init_rd_atom < SESS_RD_ATOM_MAX
					  ? attr.max_qp_init_rd_atom : SESS_RD_ATOM_MAX);
	c->pd = FAULT("sess.alloc_pd", ENOMEM) ? NULL : ibv_alloc_pd(c->verbs);
	if (!c->pd)
		return sess_err(c, -errno, "ibv_alloc_pd(%s): %s",
				ibv_get_device_name(c->verbs->device), strerror(errno));
	rc = wr_setup(c);
	if (rc)
		return rc;
	rc = event_setup(c);
	if (rc)
		return rc;
	rc = ctrl_setup(c);
	if (rc)
		return rc;
	return xfer_setup(c);
}

static int sess_resolve(struct sealmr_conn *c, const struct timespec *t0)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	struct cm_copy ev;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", c->port);
	rc = getaddrinfo(c->host, port, &hints, &ai);
	if (rc)
		return sess_err(c, -EHOSTUNREACH, "cannot connect to sealmrd at %s: %s", c->where,
				rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	rc = (FAULT("sess.resolve_addr", EIO) ||
	      rdma_resolve_addr(c->id, NULL, ai->ai_addr, c->opts.timeout_ms))
		 ? -errno
		 : 0;
	freeaddrinfo(ai);
	if (rc)
		return sess_err(c, rc, "cannot connect to sealmrd at %s: rdma_resolve_addr: %s%s",
				c->where, strerror(-rc),
				rc == -ENODEV || rc == -EADDRNOTAVAIL
					? " (no RDMA device on the way there: see `rdma link`)" : "");
	rc = sess_expect(c, t0, RDMA_CM_EVENT_ADDR_RESOLVED, "address resolution", &ev);
	if (rc)
		return rc;
	if (FAULT("sess.resolve_route", EIO) || rdma_resolve_route(c->id, c->opts.timeout_ms))
		return sess_err(c, -errno, "cannot connect to sealmrd at %s: rdma_resolve_route: %s",
				c->where, strerror(errno));
	return sess_expect(c, t0, RDMA_CM_EVENT_ROUTE_RESOLVED, "route resolution", &ev);
}

void sess_param_fill(struct sealmr_conn *c, struct rdma_conn_param *param, const void *pd,
		     uint8_t len)
{
	memset(param, 0, sizeof(*param));
	param->private_data = pd;
	param->private_data_len = len;
	param->responder_resources = c->resp_res;
	param->initiator_depth = c->init_depth;
	/* RC retries for ever on RNR: a SEND finding no receive waits. */
	param->retry_count = 7;
	param->rnr_retry_count = 7;
}

static int sess_request(struct sealmr_conn *c, const struct timespec *t0)
{
	struct proto_conn_priv priv = {
		.version = PROTO_VERSION,
		.credits = SESS_RECVS,
		.status = 0,
		.max_msg = PROTO_MSG_MAX,
	};
	const struct proto_session_priv sp = { 0 }; /* a new session */
	uint8_t pd[PROTO_CONN_PRIV_V3_SIZE];
	struct rdma_conn_param param = { 0 };
	struct cm_copy ev;
	int rc;

	proto_conn_priv_encode(&priv, pd);
	proto_session_priv_encode(&sp, pd);
	sess_param_fill(c, &param, pd, sizeof(pd));
	if (FAULT("sess.connect", EIO) || rdma_connect(c->id, &param))
		return sess_err(c, -errno, "cannot connect to sealmrd at %s: rdma_connect: %s",
				c->where, strerror(errno));
	rc = sess_wait_cm(c, t0, &ev);
	if (rc == 0 && ev.type == RDMA_CM_EVENT_ESTABLISHED)
		return sess_established(c, &ev);
	if (rc == 0 && ev.type == RDMA_CM_EVENT_REJECTED)
		return sess_rejected(c, &ev);
	if (rc == 0 && ev.type == RDMA_CM_EVENT_UNREACHABLE)
		return sess_err(c, -EHOSTUNREACH, "sealmrd at %s is unreachable: no answer to the "
				"connection request", c->where);
	if (rc == 0)
		return sess_err(c, -ECONNREFUSED, "cannot connect to sealmrd at %s: %s (status %d)",
				c->where, rdma_event_str(ev.type), ev.status);
	if (rc == -ETIMEDOUT)
		return sess_err(c, rc, "cannot connect to sealmrd at %s: no answer within %d ms",
				c->where, c->opts.timeout_ms);
	return sess_err(c, rc, "cannot connect to sealmrd at %s: %s", c->where, strerror(-rc));
}

/* Destroys the endpoints; what was posted on them must have completed. */
static void sess_ep_delete(struct sealmr_conn *c)
{
	dqp_delete_all(c);
	if (c->qp) {
		rdma_destroy_qp(c->id);
		c->qp = NULL;
	}
	if (c->id) {
		rdma_destroy_id(c->id);
		c->id = NULL;
	}
	c->sq_used = 0;
	c->recvs_posted = 0;
	ctrl_reset(c);
	sess_drive(c, SESS_EV_TORN_DOWN, 0, NULL);
}

/* A new endpoint: id, address, route, QP, receives, connection. */
static int sess_ep_new(struct sealmr_conn *c)
{
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sess_drive(c, SESS_EV_CONNECTING, 0, NULL);
	if (FAULT("sess.create_id", ENOMEM) || rdma_create_id(c->cm_chan, &c->id, c, RDMA_PS_TCP)) {
		rc = sess_err(c, -errno, "rdma_create_id: %s", strerror(errno));
		goto err_delete_ep;
	}
	rc = sess_resolve(c, &t0);
	if (rc)
		goto err_delete_ep;
	if (!c->verbs) {
		rc = sess_setup_verbs(c);
		if (rc)
			goto err_delete_ep;
	} else if (c->id->verbs != c->verbs) {
		rc = sess_err(c, -ENODEV, "cannot reconnect to sealmrd at %s: the route now goes "
			      "through %s, not %s", c->where,
			      ibv_get_device_name(c->id->verbs->device),
			      ibv_get_device_name(c->verbs->device));
		goto err_delete_ep;
	}
	rc = sess_create_qp(c);
	if (rc)
		goto err_delete_ep;
	rc = ctrl_post_recvs(c);
	if (rc)
		goto err_destroy_qp;
	rc = sess_request(c, &t0);
	if (rc)
		goto err_destroy_qp;
	rc = dqp_connect_all(c, &t0);
	if (rc)
		goto err_destroy_qp;
	return 0;

err_destroy_qp:
	/* The QP goes to the error state first so that its receives flush. */
	sess_drive(c, SESS_EV_FAILED, rc, c->errmsg);
	xfer_drain(c, 1000);
err_delete_ep:
	sess_ep_delete(c);
	return rc;
}

int sess_ensure(struct sealmr_conn *c)
{
	char why[SESS_ERRMSG_MAX];
	unsigned reopened, lost;
	int rc;

	if (c->state == SESS_ESTABLISHED)
		return 0;
	if (!c->opts.reconnect || c->reconnecting)
		return sess_not_connected(c);
	snprintf(why, sizeof(why), "%s", c->broken_why);
	if (c->id) {
		/* Flushed completions first: async ones reach the ring. */
		xfer_drain(c, 2000);
		sess_ep_delete(c);
	}
	rc = sess_ep_new(c);
	if (rc) {
		char msg[SESS_ERRMSG_MAX];

		snprintf(msg, sizeof(msg), "%s", c->errmsg);
		snprintf(c->broken_why, sizeof(c->broken_why), "%s", why);
		return sess_err(c, rc, "%s (reconnecting after: %s)", msg, why);
	}
	c->reconnecting = true;
	grant_reopen_all(c, &reopened, &lost);
	c->reconnecting = false;
	LOG_INFO("sealmr %s: reconnected after: %s; %u grants re-opened, %u lost", c->where, why,
		 reopened, lost);
	if (c->reconnect_fn)
		c->reconnect_fn(c, reopened, lost, c->reconnect_arg);
	return c->state == SESS_ESTABLISHED ? 0 : sess_not_connected(c);
}

static int sess_new(const char *host, uint16_t port, const struct sealmr_conn_opts *opts,
		    struct sealmr_conn **out)
{
	struct sealmr_conn *c = FAULT("sess.new", ENOMEM) ? NULL : calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = SESS_DEFAULT_TIMEOUT_MS;
	if (c->opts.depth == 0)
		c->opts.depth = SESS_DEFAULT_DEPTH;
	if (c->opts.depth > SESS_MAX_DEPTH)
		c->opts.depth = SESS_MAX_DEPTH;
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port ? port : SEALMR_DEFAULT_PORT;
	snprintf(c->where, sizeof(c->where), strchr(c->host, ':') ? "[%s]:%u" : "%s:%u",
		 c->host, c->port);
	c->epfd = -1;
	c->evfd = -1;
	if (c->opts.qps == 0)
		c->opts.qps = SESS_DEFAULT_QPS;
	if (c->opts.qps > PROTO_SESSION_QPS_MAX)
		c->opts.qps = PROTO_SESSION_QPS_MAX;
	c->nqps = c->opts.qps;
	c->dq = FAULT("sess.data_qps", ENOMEM) ? NULL : calloc(c->nqps, sizeof(*c->dq));
	c->why_msgs = FAULT("sess.why_msgs", ENOMEM) ? NULL : calloc(2, sizeof(*c->why_msgs));
	if (!c->dq || !c->why_msgs) {
		free(c->why_msgs);
		free(c->dq);
		free(c);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->nqps; i++)
		c->dq[i].idx = i;
	/* A record per async slot and one more for striping each, the
	 * blocking chunks, the atomic; any data QP may hold them all. */
	c->nwr = 2 * c->opts.depth + XFER_CHUNKS + 2;
	c->dsq_size = c->nwr;
	TAILQ_INIT(&c->grants);
	TAILQ_INIT(&c->revoked);
	TAILQ_INIT(&c->bufs);
	*out = c;
	return 0;
}

static void sess_delete(struct sealmr_conn **pc)
{
	struct sealmr_conn *c = *pc;

	if (!c)
		return;
	if (c->id) {
		sess_drive(c, SESS_EV_FAILED, -ENOTCONN, "disconnected by the application");
		xfer_drain(c, 1000);
		sess_ep_delete(c);
	}
	grant_free_all(c);
	buf_free_all(c);
	xfer_teardown(c);
	wr_teardown(c);
	ctrl_teardown(c);
	event_teardown(c);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->cm_chan)
		rdma_destroy_event_channel(c->cm_chan);
	free(c->why_msgs);
	free(c->dq);
	free(c);
	*pc = NULL;
}

int sealmr_connect(const char *host, uint16_t port, const struct sealmr_conn_opts *opts,
		   struct sealmr_conn **out)
{
	const char *debug = getenv("SEALMR_DEBUG");
	struct sealmr_conn *c;
	int rc;

	if (debug && *debug && strcmp(debug, "0"))
		log_set_threshold(LOG_LEVEL_DEBUG);
	if (!host || !*host || !out) {
		connect_err_set("sealmr_connect: no host given");
		return -EINVAL;
	}
	rc = sess_new(host, port, opts, &c);
	if (rc) {
		connect_err_set("sealmr_connect: out of memory");
		return rc;
	}
	c->cm_chan = FAULT("sess.cm_channel", ENOMEM) ? NULL : rdma_create_event_channel();
	if (!c->cm_chan) {
		rc = sess_err(c, -errno, "rdma_create_event_channel: %s (is rdma_ucm loaded, "
			      "/dev/infiniband/rdma_cm there?)", strerror(errno));
		goto err_delete;
	}
	if (fcntl(c->cm_chan->fd, F_SETFL, fcntl(c->cm_chan->fd, F_GETFL) | O_NONBLOCK)) {
		rc = sess_err(c, -errno, "fcntl(rdma_cm fd, O_NONBLOCK): %s", strerror(errno));
		goto err_delete;
	}
	rc = sess_ep_new(c);
	if (rc)
		goto err_delete;
	*out = c;
	return 0;

err_delete:
	connect_err_set(c->errmsg);
	sess_delete(&c);
	return rc;
}

/*
 * Programs built against 0.1 pass a struct sealmr_conn_opts without qps:
 * they get the default number of data QPs (libsealmr.map, SEALMR_0.1).
 */
struct sess_opts_0_1 {
	int timeout_ms;
	unsigned depth;
	int reconnect;
	int busy_poll;
};

int sess_connect_0_1(const char *host, uint16_t port, const struct sess_opts_0_1 *opts,
		     struct sealmr_conn **out);
__asm__(".symver sess_connect_0_1, sealmr_connect@SEALMR_0.1");
int sess_connect_0_1(const char *host, uint16_t port, const struct sess_opts_0_1 *opts,
		     struct sealmr_conn **out)
{
	struct sealmr_conn_opts o = { 0 };

	if (opts) {
		o.timeout_ms = opts->timeout_ms;
		o.depth = opts->depth;
		o.reconnect = opts->reconnect;
		o.busy_poll = opts->busy_poll;
	}
	return sealmr_connect(host, port, &o, out);
}

void sealmr_disconnect(struct sealmr_conn **pc)
{
	if (pc)
		sess_delete(pc);
}
