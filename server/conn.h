/* SPDX-License-Identifier: MIT */
/*
 * conn: one client. Its own protection domain (so its rkeys are useless on
 * any other connection), CQ and completion channel on the daemon's event
 * loop, RC QP carrying the control messages, and the grants it holds.
 */
#ifndef SEALMR_CONN_H
#define SEALMR_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>
#include <rdma/rdma_cma.h>

#include "grant.h"
#include "proto.h"

#define CONN_RECVS 16 /* the credits the daemon grants a client */
#define CONN_SENDS 48 /* replies to those plus room for revokes */
#define CONN_BAD_MSGS_MAX 8

struct server;

enum conn_state {
	CONN_ACCEPTING,   /* accept sent, waiting for ESTABLISHED */
	CONN_ESTABLISHED, /* serving requests */
	CONN_CLOSING,     /* disconnect sent, waiting for DISCONNECTED */
	CONN_STATE_MAX
};

struct conn {
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
	uint64_t connected_ns;
};
TAILQ_HEAD(conn_list, conn);

/* Sets up the verbs resources for a CONNECT_REQUEST's id and accepts it. */
int conn_new(struct server *srv, struct rdma_cm_id *id, uint16_t version,
	     uint16_t peer_credits, struct conn **out);
/* Revokes nothing: drops grants, destroys the QP and frees. NULL is fine. */
void conn_delete(struct conn **conn);

/* The rdma_cm said the connection is up, or gone. */
void conn_established(struct conn *conn);
void conn_disconnect(struct conn *conn);

/*
 * Kills the grant's rkey, then tells the client why. The grant is freed.
 */
void conn_revoke(struct conn *conn, struct grant *grant, uint32_t reason, const char *text);
/* Revokes every grant of the connection on exp (all if exp is NULL). */
unsigned conn_revoke_export(struct conn *conn, struct export *exp, uint32_t reason,
			    const char *text);
/* Waits up to timeout_ms for the sends already posted to complete. */
void conn_drain_sends(struct conn *conn, int timeout_ms);

const char *conn_state_name(enum conn_state state);

/* For the request handlers (conn.c, conn-small.c). */
int conn_send(struct conn *conn, struct proto_msg *msg);
void conn_error(struct conn *conn, uint32_t req_id, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct grant *conn_find_grant(struct conn *conn, uint64_t id);
int conn_check_range(struct conn *conn, uint32_t req_id, const char *what, uint64_t size,
		     uint64_t off, uint64_t len);
/* WRITE_SMALL_REQ and READ_SMALL_REQ (conn-small.c). */
void conn_on_write_small(struct conn *conn, const struct proto_msg *req);
void conn_on_read_small(struct conn *conn, const struct proto_msg *req);

#endif
