/* SPDX-License-Identifier: MIT */
/*
 * conn-data: the data QPs of a version 3 session. A client opens further
 * rdma_cm connections carrying its session and token; each gets an RC QP
 * on the session's protection domain and CQ, with nothing posted on it:
 * only the client's one-sided READ, WRITE and atomics arrive there. The
 * token proves the joiner was told it on the control QP; the address and
 * the device must be the session's too, so a token copied elsewhere opens
 * nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "fault.h"
#include "log.h"
#include "server-internal.h"

static struct conn *conn_data_session(struct conn_list *conns, uint64_t session)
{
	struct conn *c;

	TAILQ_FOREACH(c, conns, entry)
		if (c->serial == session)
			return c;
	return NULL;
}

/* Compares without an early exit: the time taken says nothing of the token. */
static bool conn_data_token_ok(uint64_t have, uint64_t shown)
{
	return (have ^ shown) == 0 && have != 0;
}

static int conn_data_check(struct conn *c, struct rdma_cm_id *id,
			   const struct proto_session_priv *sp, const char *peer, char *why,
			   size_t whylen)
{
	const struct sockaddr *sa = rdma_get_peer_addr(id);

	if (!c || c->state != CONN_ESTABLISHED || c->version < 3) {
		snprintf(why, whylen, "%s: no session %llu (closed, or never opened)", peer,
			 (unsigned long long)sp->session);
		return ESTALE;
	}
	if (!conn_data_token_ok(c->token, sp->token)) {
		snprintf(why, whylen, "%s: wrong token for session %llu", peer,
			 (unsigned long long)sp->session);
		return EPERM;
	}
	if (sa->sa_family != AF_INET ||
	    ((const struct sockaddr_in *)sa)->sin_addr.s_addr != c->peer_addr.s_addr) {
		snprintf(why, whylen, "%s: session %llu belongs to client %s, not this address",
			 peer, (unsigned long long)sp->session, c->peer);
		return EACCES;
	}
	if (id->verbs != c->id->verbs) {
		snprintf(why, whylen, "%s: session %llu is on %s, this QP would be on %s", peer,
			 (unsigned long long)sp->session, ibv_get_device_name(c->id->verbs->device),
			 ibv_get_device_name(id->verbs->device));
		return EXDEV;
	}
	if (c->ndata >= PROTO_SESSION_QPS_MAX) {
		snprintf(why, whylen, "%s: session %llu has %u data QPs already, the most it may",
			 peer, (unsigned long long)sp->session, c->ndata);
		return EMLINK;
	}
	return 0;
}

static int conn_data_accept(struct conn_data *d, const struct proto_session_priv *sp)
{
	struct conn *c = d->conn;
	struct ibv_qp_init_attr qa = { 0 };
	struct proto_conn_priv priv = {
		.version = c->version,
		.max_msg = PROTO_MSG_MAX,
	};
	struct proto_session_priv echo = { .session = sp->session, .qps = sp->qps };
	uint8_t pd[PROTO_CONN_PRIV_V3_SIZE];

	/* Nothing is ever posted here: the QP only answers the client's
	 * one-sided requests, its completions would go to the session's CQ. */
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 1;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (FAULT("conn-data.create_qp", ENOMEM) || rdma_create_qp(d->id, c->pd, &qa))
		return -errno;
	proto_conn_priv_encode(&priv, pd);
	proto_session_priv_encode(&echo, pd);
	return conn_accept_id(d->id, pd, sizeof(pd));
}

int conn_data_join(struct conn_list *conns, struct rdma_cm_id *id,
		   const struct proto_session_priv *sp)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);
	struct conn *c = conn_data_session(conns, sp->session);
	struct conn_data *d;
	char why[256], peer[INET6_ADDRSTRLEN] = "?";
	int status, rc;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
	status = conn_data_check(c, id, sp, peer, why, sizeof(why));
	if (status) {
		conn_reject(id, status, why);
		return 0;
	}
	d = FAULT("conn-data.new", ENOMEM) ? NULL : calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, sizeof(why), "%s: no memory for a data QP of session %llu", peer,
			 (unsigned long long)sp->session);
		conn_reject(id, ENOMEM, why);
		return 0;
	}
	d->kind = CONN_EP_DATA;
	d->conn = c;
	d->id = id;
	d->index = sp->qps;
	id->context = d;
	rc = conn_data_accept(d, sp);
	if (rc) {
		snprintf(why, sizeof(why), "%s: cannot set up data QP %u of session %llu: %s", peer,
			 d->index, (unsigned long long)sp->session, strerror(-rc));
		LOG_ERR("client %s: %s", c->peer, why);
		if (id->qp)
			rdma_destroy_qp(id);
		id->context = NULL;
		free(d);
		conn_reject(id, -rc > 0 && -rc < 4096 ? -rc : EIO, why);
		return 0;
	}
	TAILQ_INSERT_TAIL(&c->data, d, entry);
	c->ndata++;
	return 1;
}

void conn_data_established(struct conn_data *d)
{
	if (d->established)
		return;
	d->established = true;
	LOG_INFO("client %s: data QP %u joined (qp %u, %u in the session)", d->conn->peer,
		 d->index, d->id->qp ? d->id->qp->qp_num : 0, d->conn->ndata);
}

void conn_data_delete(struct conn_data **pd)
{
	struct conn_data *d = *pd;

	if (!d)
		return;
	TAILQ_REMOVE(&d->conn->data, d, entry);
	d->conn->ndata--;
	LOG_DEBUG("client %s: data QP %u gone", d->conn->peer, d->index);
	if (d->established)
		rdma_disconnect(d->id);
	if (d->id->qp)
		rdma_destroy_qp(d->id);
	rdma_destroy_id(d->id);
	free(d);
	*pd = NULL;
}
