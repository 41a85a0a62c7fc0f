/* SPDX-License-Identifier: MIT */
/*
 * conn: one client. Its own protection domain (so its rkeys are useless on
 * any other connection), CQ and completion channel on the daemon's event
 * loop, RC QP carrying the control messages, and the grants it holds.
 *
 * A version 3 client's connection is a session: the control QP carries
 * only messages, and data QPs (conn-data.c) that join with the session's
 * token carry the one-sided traffic, on the session's protection domain.
 * A remote access error kills the data QP it happened on, never the
 * control QP, so a REVOKE is never flushed with it.
 */
#ifndef SEALMR_CONN_H
#define SEALMR_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <rdma/rdma_cma.h>

#include "grant.h"
#include "proto.h"

#define CONN_RECVS 16 /* the credits the daemon grants a client */
#define CONN_SENDS 48 /* replies to those plus room for revokes */
#define CONN_BAD_MSGS_MAX 8

struct server;

/* What an rdma_cm id's context points to: both structs start with it. */
enum conn_ep_kind {
	CONN_EP_CONTROL = 1,
	CONN_EP_DATA,
};

struct conn_data {
	enum conn_ep_kind kind; /* CONN_EP_DATA */
	TAILQ_ENTRY(conn_data) entry;
	struct conn *conn;
	struct rdma_cm_id *id;
	unsigned index; /* the client's name for it, for the logs */
	bool established;
};
TAILQ_HEAD(conn_data_list, conn_data);

enum conn_state {
	CONN_ACCEPTING,   /* accept sent, waiting for ESTABLISHED */
	CONN_ESTABLISHED, /* serving requests */
	CONN_STOPPING,    /* the daemon stops: revokes sent, waiting for them to go */
	CONN_CLOSING,     /* disconnect sent, waiting for DISCONNECTED */
	CONN_GONE,        /* disconnected: the server frees it */
	CONN_STATE_MAX
};

/* What conn_drive() is told. */
enum conn_event {
	CONN_EV_ESTABLISHED,  /* the rdma_cm's, or a first message */
	CONN_EV_STOP,         /* the daemon stops */
	CONN_EV_SENT,         /* every send slot came back */
	CONN_EV_FAILED,       /* the client misbehaved, or its QP failed: why */
	CONN_EV_DISCONNECTED, /* the rdma_cm says it is gone (why: an error, or NULL) */
	CONN_EV_MAX
};

struct conn {
	enum conn_ep_kind kind; /* CONN_EP_CONTROL */
	TAILQ_ENTRY(conn) entry;
	struct server *srv;
	enum conn_state state;
	uint64_t serial;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *chan;
	struct ibv_cq *cq;
	struct event *cq_ev;
	char *bufs; /* CONN_RECVS receive slots, then CONN_SENDS send slots */
	struct ibv_mr *bufs_mr;
	int send_free[CONN_SENDS];
	int nsend_free;
	unsigned cq_unacked;
	struct grant_list grants;
	unsigned ngrants;
	char peer[INET6_ADDRSTRLEN + 8];
	struct in_addr peer_addr;
	unsigned bad_msgs;
	uint16_t peer_credits;
	uint16_t version; /* the protocol version the client connected with */
	uint32_t place;   /* enum proto_place of its device's ODP regions */
	unsigned flush_caps; /* enum flush_cap of its device */
	uint64_t connected_ns;
	uint64_t token; /* v3: what a data QP joining this session shows */
	struct conn_data_list data;
	unsigned ndata;
};
TAILQ_HEAD(conn_list, conn);

/* Sets up the verbs resources for a CONNECT_REQUEST's id and accepts it. */
int conn_new(struct server *srv, struct rdma_cm_id *id, uint16_t version,
	     uint16_t peer_credits, struct conn **out);
/* Revokes nothing: drops grants, destroys the QP and frees. NULL is fine. */
void conn_delete(struct conn **conn);

/* The one place a connection's state changes (conn.c says how). */
void conn_drive(struct conn *conn, enum conn_event ev, const char *why);

/*
 * Kills the grant's rkey, then tells the client why. The grant is freed.
 */
void conn_revoke(struct conn *conn, struct grant *grant, uint32_t reason, const char *text);
/* Revokes every grant of the connection on exp (all if exp is NULL). */
unsigned conn_revoke_export(struct conn *conn, struct export *exp, uint32_t reason,
			    const char *text);

const char *conn_state_name(enum conn_state state);

/* The private data an accept carries: 16 bytes, 40 for a session's. */
int conn_accept_id(struct rdma_cm_id *id, const void *priv, uint8_t len);
/* Rejects a connect request: status is the positive errno the client reads. */
void conn_reject(struct rdma_cm_id *id, int status, const char *why);

/*
 * conn-data.c: a CONNECT_REQUEST carrying a session and token joins that
 * session as a data QP. Returns 1 when the id was taken, 0 when it was
 * rejected (with a status saying why) and the caller destroys it.
 */
int conn_data_join(struct conn_list *conns, struct rdma_cm_id *id,
		   const struct proto_session_priv *sp);
void conn_data_established(struct conn_data *d);
/* Disconnects (if still up) and frees a data QP. NULL is fine. */
void conn_data_delete(struct conn_data **d);

/* For the request handlers (conn-req.c, conn-small.c). */
int conn_send(struct conn *conn, struct proto_msg *msg);
void conn_error(struct conn *conn, uint32_t req_id, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct grant *conn_find_grant(struct conn *conn, uint64_t id);
int conn_check_range(struct conn *conn, uint32_t req_id, const char *what, uint64_t size,
		     uint64_t off, uint64_t len);
void conn_drop_grant(struct conn *conn, struct grant *grant);
/* A received message: decoded, checked, handed to its handler (conn-req.c). */
void conn_on_message(struct conn *conn, const void *buf, size_t len);
/* WRITE_SMALL_REQ and READ_SMALL_REQ (conn-small.c). */
void conn_on_write_small(struct conn *conn, const struct proto_msg *req);
void conn_on_read_small(struct conn *conn, const struct proto_msg *req);

#endif
