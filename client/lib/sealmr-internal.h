/* SPDX-License-Identifier: MIT */
/*
 * libsealmr internals, shared by the library's modules and nothing else.
 *
 * One connection is one rdma_cm id with one RC QP (the endpoint, rebuilt on
 * a reconnect) over resources that live as long as the connection: the
 * protection domain, the completion channel and its one CQ, the registered
 * control buffers, the staging buffer, the user's registered buffers, and an
 * epoll fd gathering the completion channel, the rdma_cm channel and an
 * eventfd that is readable while finished async operations wait to be
 * reaped. Every work request is signaled: each send-queue completion gives
 * its entry back, so the send-queue accounting is a plain counter.
 *
 * wr_id = kind << 56 | index: the kind says which module owns the request.
 */
#ifndef SEALMR_CLIENT_INTERNAL_H
#define SEALMR_CLIENT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "sealmr/sealmr.h"
#include "proto.h"

#define CONN_RECVS 32          /* RECVs we keep posted: our credits */
#define CONN_CTRL_SENDS 8      /* control send slots */
#define CONN_DEFAULT_TIMEOUT_MS 10000
#define CONN_DEFAULT_DEPTH 64
#define CONN_MAX_DEPTH 4096
#define CONN_RD_ATOM_MAX 16
#define CONN_ACK_BATCH 16
#define CONN_ERRMSG_MAX 512

#define XFER_STAGING_SIZE (4u << 20) /* one registration per connection */
#define XFER_CHUNKS 16               /* chunks of the staging buffer in flight */
#define XFER_CHUNK_SIZE (XFER_STAGING_SIZE / XFER_CHUNKS)
#define XFER_MAX_LEN (1u << 30)      /* longest single async operation */
#define XFER_DIRECT_MIN SIZE_MAX     /* never by default: see xfer_sync_range */

/* The control registration: receive slots, send slots, the atomic result. */
#define CTRL_SEND_OFF ((size_t)CONN_RECVS * PROTO_MSG_MAX)
#define CTRL_ATOMIC_OFF ((size_t)(CONN_RECVS + CONN_CTRL_SENDS) * PROTO_MSG_MAX)
#define CTRL_BUF_SIZE (CTRL_ATOMIC_OFF + 64)

#define WRID_KIND_SHIFT 56
#define WRID(kind, idx) (((uint64_t)(kind) << WRID_KIND_SHIFT) | (uint64_t)(idx))
#define WRID_KIND(wr_id) ((unsigned)((wr_id) >> WRID_KIND_SHIFT))
#define WRID_INDEX(wr_id) ((uint32_t)(wr_id))

enum wrid_kind {
	WRID_RECV = 1,  /* control receive slot */
	WRID_CTRL,      /* control send slot */
	WRID_SYNC,      /* chunk of a blocking read/write */
	WRID_ASYNC,     /* async slot */
	WRID_ATOMIC,    /* the one atomic in flight */
};

enum conn_state {
	CONN_IDLE,        /* no endpoint yet, or torn down before a reconnect */
	CONN_CONNECTING,  /* address, route, connect request in progress */
	CONN_ESTABLISHED, /* usable */
	CONN_BROKEN,      /* QP in error or peer gone; why is in broken_why */
	CONN_STATE_MAX
};

/* Something the connection learnt, fed to conn_drive() */
enum conn_event {
	CONN_EV_CONNECTING,
	CONN_EV_ESTABLISHED,
	CONN_EV_FAILED,       /* a work request or the peer failed: disconnect */
	CONN_EV_DISCONNECTED, /* the rdma_cm says the peer is gone */
	CONN_EV_TORN_DOWN,    /* the endpoint was destroyed */
	CONN_EV_MAX
};

struct sealmr_grant {
	TAILQ_ENTRY(sealmr_grant) entry;
	TAILQ_ENTRY(sealmr_grant) cb_entry; /* on conn->revoked while its callback is due */
	struct sealmr_conn *conn;
	char export[PROTO_NAME_MAX];
	unsigned req_access; /* what the user asked for, for a re-open */
	struct proto_grant g;
	bool revoked;
	bool cb_due;
	unsigned revoke_reason;
	char revoke_text[PROTO_TEXT_MAX];
};
TAILQ_HEAD(grant_list, sealmr_grant);

struct sealmr_buf {
	TAILQ_ENTRY(sealmr_buf) entry;
	struct sealmr_conn *conn;
	struct ibv_mr *mr;
	char *addr;
	size_t len;
};
TAILQ_HEAD(buf_list, sealmr_buf);

/* A chunk of the staging buffer during a blocking transfer. */
struct xfer_chunk {
	char *user;   /* where a read copies the chunk to */
	uint32_t len;
	bool busy;    /* posted, no completion yet */
	int status;   /* 0 or -errno once complete */
};

struct xfer_slot {
	uint64_t user_ctx;
	uint64_t grant_id;
	uint32_t len;
	int status;  /* 0 or -errno once complete */
	bool write;
	bool busy;   /* posted, no completion yet */
};

struct sealmr_conn {
	char host[256];
	uint16_t port;
	char where[280]; /* "HOST:PORT" for messages */
	struct sealmr_conn_opts opts;
	enum conn_state state;
	int broken_err;
	char broken_why[CONN_ERRMSG_MAX];
	char errmsg[CONN_ERRMSG_MAX];

	/* Lives as long as the connection. */
	struct rdma_event_channel *cm_chan;
	struct ibv_context *verbs;
	struct ibv_pd *pd;
	struct ibv_comp_channel *chan;
	struct ibv_cq *cq;
	unsigned cq_unacked;
	/* The CQ is armed (ibv_req_notify_cq) and no completion came since:
	 * a sleep on the channel will wake. Cleared by any completion polled,
	 * since one that arrives while armed uses the arm up. */
	bool cq_armed;
	/* An event may wait on the completion channel: read it before re-arming. */
	bool cq_event_due;
	struct timespec cm_checked; /* the rdma_cm channel's last look when not waiting */
	int epfd;
	int evfd; /* readable while async completions wait in the ring */
	uint8_t resp_res, init_depth;

	/* The endpoint: rebuilt on a reconnect. */
	struct rdma_cm_id *id;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx; /* with atomic write, else NULL */
	/* Why data ops on a grant of page placement are refused (a path MTU
	 * under a page), or empty (quirk.c). */
	char quirk_why[384];
	char atomic_write_why[160];
	unsigned sq_size, sq_used;
	unsigned recvs_posted;

	/* Control: CONN_RECVS receive slots, CONN_CTRL_SENDS send slots, then
	 * 8 bytes for atomic results, all in one registration. */
	char *ctrl_buf;
	struct ibv_mr *ctrl_mr;
	unsigned send_free[CONN_CTRL_SENDS];
	unsigned nsend_free;
	uint16_t credits;      /* the daemon's posted receives */
	unsigned ctrl_inflight;
	uint32_t next_req_id;
	uint32_t wait_req_id;  /* the reply being waited for, 0: none */
	bool wait_done;
	int wait_err;
	struct proto_msg *wait_reply;

	struct grant_list grants;
	struct grant_list revoked; /* callbacks due */
	bool reconnecting;
	sealmr_reconnect_fn reconnect_fn;
	void *reconnect_arg;
	sealmr_revoke_fn revoke_fn;
	void *revoke_arg;
	bool in_revoke_cb;

	struct buf_list bufs;

	/* Blocking transfers. */
	char *staging;
	struct ibv_mr *staging_mr;
	struct xfer_chunk chunks[XFER_CHUNKS];
	uint64_t sync_grant_id;
	size_t direct_min; /* from this length on, register the user's buffer */

	/* Async transfers: depth slots; finished ones are queued in a ring. */
	struct xfer_slot *slots;
	unsigned *slot_free;
	unsigned nslot_free;
	unsigned *ring;
	unsigned ring_head, ring_count;
	unsigned async_busy;   /* posted, no completion yet */
	unsigned async_writes; /* writes among them, for flush */

	/* Atomics: one at a time. */
	bool atomic_busy;
	int atomic_status;
};

/* errmsg.c */
int conn_err(struct sealmr_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conn_verr(struct sealmr_conn *c, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* The message of the last sealmr_connect that failed in this thread. */
void connect_err_set(const char *msg);

/* conn.c */
const char *conn_state_name(enum conn_state state);
void conn_drive(struct sealmr_conn *c, enum conn_event ev, int err, const char *why);
/* 0 when usable; reconnects a broken connection if opts.reconnect. */
int conn_ensure(struct sealmr_conn *c);
/* Fails an operation that found the connection unusable. */
int conn_not_connected(struct sealmr_conn *c);
int conn_elapsed_ms(const struct timespec *t0);

/* event.c: waits up to timeout_ms (0: no wait, -1: forever) for anything,
 * then handles rdma_cm events and work completions. Returns how many
 * completions were handled or -errno. */
int conn_progress(struct sealmr_conn *c, int timeout_ms);
/* True if the connection's port is not active; the connection is then
 * broken with -ENETDOWN and a reason naming the port. */
bool conn_check_port(struct sealmr_conn *c);
/* Runs the revoke callbacks that are due, outside any completion handling. */
void conn_run_revoke_cbs(struct sealmr_conn *c);
int event_setup(struct sealmr_conn *c);
void event_teardown(struct sealmr_conn *c);
void event_ring_signal(struct sealmr_conn *c, bool readable);

/* ctrl.c */
int ctrl_setup(struct sealmr_conn *c);
void ctrl_teardown(struct sealmr_conn *c);
int ctrl_post_recvs(struct sealmr_conn *c);
void ctrl_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc);
void ctrl_reset(struct sealmr_conn *c);
/*
 * Sends req, waits for the reply to its req_id. A PROTO_ERROR reply
 * becomes -err with "WHAT at HOST:PORT: text" as the message; a reply of
 * another type than want becomes -EPROTO.
 */
int ctrl_call(struct sealmr_conn *c, struct proto_msg *req, uint16_t want,
	      struct proto_msg *reply, const char *what);

/* grant.c */
/* Re-opens every grant after a reconnect; those that fail are revoked. */
void grant_reopen_all(struct sealmr_conn *c, unsigned *reopened, unsigned *lost);
struct sealmr_grant *grant_find(struct sealmr_conn *c, uint64_t id);
void grant_revoke(struct sealmr_grant *g, unsigned reason, const char *text);
void grant_free_all(struct sealmr_conn *c);
/* 0, or -EACCES/-ENOTCONN/-ERANGE with the message set. */
int grant_check(struct sealmr_grant *g, uint64_t off, uint64_t len, bool write);
/* -EACCES naming the revoke's reason, as every call on a revoked grant fails. */
int grant_revoked_err(struct sealmr_grant *g);

/* xfer.c */
int xfer_setup(struct sealmr_conn *c);
void xfer_teardown(struct sealmr_conn *c);
void xfer_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc);
/* What a failed data work completion means, as -errno plus the message. */
int xfer_wc_err(struct sealmr_conn *c, const struct ibv_wc *wc, uint64_t grant_id);
/* Waits for every send-queue entry to come back (after the QP went to error). */
void xfer_drain(struct sealmr_conn *c, int timeout_ms);
/* Posts one RDMA READ or WRITE (or SEND-less op) and counts its entry. */
int xfer_post(struct sealmr_conn *c, enum ibv_wr_opcode op, uint64_t wr_id, void *local,
	      uint32_t lkey, uint32_t len, uint64_t raddr, uint32_t rkey);

/* The path MTU check, once the endpoint is connected. */
void xfer_quirk_setup(struct sealmr_conn *c);
/* The page size one-sided starts on g must keep to, or 0 (exact placement). */
unsigned xfer_quirk_align(const struct sealmr_grant *g);
/* 0, or -EOPNOTSUPP when g's placement needs a path MTU of a page. */
int xfer_quirk_check(struct sealmr_conn *c, struct sealmr_grant *g, const char *what);
/* How many bytes from off must go by WRITE_SMALL/READ_SMALL (0 if none). */
uint64_t xfer_quirk_head(struct sealmr_conn *c, const struct sealmr_grant *g, uint64_t off,
			 uint64_t len);
/* len bytes at off of g by WRITE_SMALL or READ_SMALL messages (xfer.c). */
int xfer_small(struct sealmr_conn *c, struct sealmr_grant *g, uint64_t off, char *buf,
	       uint64_t len, bool write);

/* atomic.c */
void atomic_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc);

/* buf.c */
void buf_free_all(struct sealmr_conn *c);

#endif
