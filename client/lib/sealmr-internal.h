/* SPDX-License-Identifier: MIT */
/*
 * libsealmr internals, shared by the library's modules and nothing else.
 *
 * One connection is a session: a control endpoint (rdma_cm id and RC QP
 * carrying only SEND/RECV, rebuilt on a reconnect) and opts.qps data
 * endpoints (dqp.c) that join it with the token the daemon handed out,
 * carrying every one-sided operation. A remote access error on a data QP
 * takes that QP down, never the control QP, so a REVOKE always arrives.
 * They all share resources that live as long as the connection: the
 * protection domain, the completion channel and its one CQ, the registered
 * control buffers, the staging buffer, the user's registered buffers, and an
 * epoll fd gathering the completion channel, the rdma_cm channel and an
 * eventfd that is readable while finished async operations wait to be
 * reaped. Every work request is signaled: each send-queue completion gives
 * its entry back, so the send-queue accounting is a plain counter per QP.
 *
 * Each one-sided work request is a record (wr.c) that says what to post
 * again: a request flushed by another operation's failure goes out again on
 * another data QP, so one error costs one operation.
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
#include "util.h"

#define SESS_RECVS 32          /* RECVs we keep posted: our credits */
#define SESS_CTRL_SENDS 8      /* control send slots */
#define SESS_DEFAULT_TIMEOUT_MS 10000
#define SESS_DEFAULT_DEPTH 64
#define SESS_MAX_DEPTH 4096
#define SESS_RD_ATOM_MAX 16
#define SESS_ACK_BATCH 16
#define SESS_ERRMSG_MAX 512
#define SESS_DEFAULT_QPS SEALMR_DEFAULT_QPS
#define SESS_CTRL_SQ (SESS_CTRL_SENDS + 4) /* the control QP's send queue */
#define DQP_MAX_FAILS 3 /* a data QP that fails to come up this often in a row stays down */

#define XFER_STAGING_SIZE (4u << 20) /* one registration per connection */
#define XFER_CHUNKS 16               /* chunks of the staging buffer in flight */
#define XFER_CHUNK_SIZE (XFER_STAGING_SIZE / XFER_CHUNKS)
#define XFER_MAX_LEN (1u << 30)      /* longest single async operation */
#define XFER_DIRECT_MIN SIZE_MAX     /* never by default: see xfer_sync_range */
/* An async transfer of at least XFER_STRIPE_MIN is cut into slices of at
 * least XFER_SLICE, one per data QP (see xfer_async). */
#define XFER_SLICE (64u << 10)
#define XFER_STRIPE_MIN (2 * XFER_SLICE)

/* The control registration: receive slots, send slots, the atomic result. */
#define CTRL_SEND_OFF ((size_t)SESS_RECVS * PROTO_MSG_MAX)
#define CTRL_ATOMIC_OFF ((size_t)(SESS_RECVS + SESS_CTRL_SENDS) * PROTO_MSG_MAX)
#define CTRL_BUF_SIZE (CTRL_ATOMIC_OFF + 64)

#define WRID_KIND_SHIFT 56
#define WRID(kind, idx) (((uint64_t)(kind) << WRID_KIND_SHIFT) | (uint64_t)(idx))
#define WRID_KIND(wr_id) ((unsigned)((wr_id) >> WRID_KIND_SHIFT))
#define WRID_INDEX(wr_id) ((uint32_t)(wr_id))

enum wrid_kind {
	WRID_RECV = 1,  /* control receive slot */
	WRID_CTRL,      /* control send slot */
	WRID_DATA,      /* a one-sided work request: index into conn->wrs */
};

/* What a data work request record does (wr.c). */
enum wr_op {
	WR_READ,
	WR_WRITE,
	WR_CAS,
	WR_FADD,
	WR_ATOMIC_WRITE,
	WR_FLUSH,
};

/* Who learns of its completion. */
enum wr_owner {
	WR_OWNER_SYNC,   /* a chunk of a blocking read/write: owner_idx */
	WR_OWNER_ASYNC,  /* a slice of an async slot: owner_idx */
	WR_OWNER_ATOMIC, /* the one atomic or RDMA FLUSH in flight */
};

struct data_wr {
	STAILQ_ENTRY(data_wr) next; /* free list, or parked waiting for a data QP */
	uint64_t grant_id;
	uint64_t raddr;
	uint64_t local;
	uint64_t compare_add; /* CAS, FADD; the value of an atomic write */
	uint64_t swap;
	uint32_t lkey, rkey, len;
	uint32_t owner_idx;
	uint8_t op, owner;
	uint8_t qp; /* the data QP it is posted on */
};
STAILQ_HEAD(data_wr_list, data_wr);

enum dqp_state {
	DQP_IDLE,       /* no endpoint: not started yet, or torn down */
	DQP_RESOLVING,  /* address and route */
	DQP_CONNECTING, /* join request sent */
	DQP_UP,         /* carries one-sided work requests */
	DQP_DRAINING,   /* failed: what was posted on it comes back flushed */
	DQP_DEAD,       /* failed to come up DQP_MAX_FAILS times: why says why */
	DQP_STATE_MAX
};

enum dqp_event {
	DQP_EV_START,
	DQP_EV_ADDR_RESOLVED,
	DQP_EV_ROUTE_RESOLVED,
	DQP_EV_ESTABLISHED,
	DQP_EV_FAILED,  /* a completion error, a reject, a disconnect */
	DQP_EV_DRAINED, /* its last work request came back */
	DQP_EV_STOP,    /* the session ends: down without coming back */
	DQP_EV_MAX
};

struct dqp {
	unsigned idx;
	enum dqp_state state;
	struct rdma_cm_id *id;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx; /* with atomic write, else NULL */
	unsigned sq_used;
	unsigned fails;    /* failures since it was last up */
	unsigned restarts; /* times it was brought back */
	bool stopping;     /* STOP seen: no restart after the drain */
	int err;
	char why[SESS_ERRMSG_MAX];
};

enum sess_state {
	SESS_IDLE,        /* no endpoint yet, or torn down before a reconnect */
	SESS_CONNECTING,  /* address, route, connect request in progress */
	SESS_ESTABLISHED, /* usable */
	SESS_BROKEN,      /* QP in error or peer gone; why is in broken_why */
	SESS_STATE_MAX
};

/* Something the connection learnt, fed to sess_drive() */
enum sess_event {
	SESS_EV_CONNECTING,
	SESS_EV_ESTABLISHED,
	SESS_EV_FAILED,       /* a work request or the peer failed: disconnect */
	SESS_EV_DISCONNECTED, /* the rdma_cm says the peer is gone */
	SESS_EV_TORN_DOWN,    /* the endpoint was destroyed */
	SESS_EV_MAX
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
	/* A one-sided operation on it met a remote access error: its rkey is
	 * dead to the daemon's device, whether or not the REVOKE came yet. */
	bool dead;
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
	int status;  /* 0 or -errno once complete: the first slice's error */
	unsigned pending; /* slices posted, no completion yet */
	bool write;
	bool busy;   /* posted, no completion yet */
};

struct sealmr_conn {
	char host[256];
	uint16_t port;
	char where[280]; /* "HOST:PORT" for messages */
	struct sealmr_conn_opts opts;
	enum sess_state state;
	int broken_err;
	char broken_why[SESS_ERRMSG_MAX];
	char errmsg[SESS_ERRMSG_MAX];

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

	/* The control endpoint: rebuilt on a reconnect. */
	struct rdma_cm_id *id;
	struct ibv_qp *qp;
	/* The session the daemon handed out with the control endpoint. */
	uint64_t session, token;
	/* The data endpoints, and where the next work request goes. */
	struct dqp *dq;
	/* grant_why_refused's STAT: taken at connect, so that explaining a
	 * remote access error needs no memory then. */
	struct proto_msg *why_msgs;
	unsigned nqps, dq_next;
	unsigned dsq_size; /* each data QP's send queue: room for every record */
	/* One-sided work request records: nwr of them, free or in use. */
	struct data_wr *wrs;
	unsigned nwr, nwr_free;
	struct data_wr_list wr_free;
	struct data_wr_list wr_parked; /* waiting for a data QP to come up */
	/* Why data ops on a grant of page placement are refused (a path MTU
	 * under a page), or empty (quirk.c). */
	char quirk_why[384];
	char atomic_write_why[160];
	unsigned sq_used; /* the control QP's */
	unsigned recvs_posted;

	/* Control: SESS_RECVS receive slots, SESS_CTRL_SENDS send slots, then
	 * 8 bytes for atomic results, all in one registration. */
	char *ctrl_buf;
	struct ibv_mr *ctrl_mr;
	unsigned send_free[SESS_CTRL_SENDS];
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
int sess_err(struct sealmr_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sess_verr(struct sealmr_conn *c, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* The message of the last sealmr_connect that failed in this thread. */
void connect_err_set(const char *msg);

/* sess.c */
const char *sess_state_name(enum sess_state state);
void sess_drive(struct sealmr_conn *c, enum sess_event ev, int err, const char *why);
/* 0 when usable; reconnects a broken connection if opts.reconnect. */
int sess_ensure(struct sealmr_conn *c);
/* Fails an operation that found the connection unusable. */
int sess_not_connected(struct sealmr_conn *c);
/* A connect request's parameters: the device's read depths, RC retries. */
void sess_param_fill(struct sealmr_conn *c, struct rdma_conn_param *param, const void *pd,
		     uint8_t len);

/* sess-event.c: waits up to timeout_ms (0: no wait, -1: forever) for anything,
 * then handles rdma_cm events and work completions. Returns how many
 * completions were handled or -errno. */
int sess_progress(struct sealmr_conn *c, int timeout_ms);
/* True if the connection's port is not active; the connection is then
 * broken with -ENETDOWN and a reason naming the port. */
bool sess_check_port(struct sealmr_conn *c);
/* Runs the revoke callbacks that are due, outside any completion handling. */
void sess_run_revoke_cbs(struct sealmr_conn *c);
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
/*
 * After a remote access error on g: a control round trip, so that a REVOKE
 * the daemon sent before it (the rkey died first) has arrived. Returns
 * grant_revoked_err(g) if it had, else rc.
 */
int grant_why_refused(struct sealmr_grant *g, int rc);

/* xfer.c */
int xfer_setup(struct sealmr_conn *c);
void xfer_teardown(struct sealmr_conn *c);
/* A chunk or slice of a transfer is done: status 0 or -errno. */
void xfer_wr_done(struct sealmr_conn *c, const struct data_wr *w, int status);
/* Waits for every send-queue entry to come back (after the QPs went to error). */
void xfer_drain(struct sealmr_conn *c, int timeout_ms);

/* dqp.c: the session's data QPs. */
const char *dqp_state_name(enum dqp_state state);
void dqp_drive(struct sealmr_conn *c, struct dqp *q, enum dqp_event ev, int err,
	       const char *why);
/* Starts every data QP, waits until each is up or has given up: 0 when
 * at least one is up, else -errno with the first one's reason. */
int dqp_connect_all(struct sealmr_conn *c, const struct timespec *t0);
/* Brings every data QP down (the session ends or reconnects). */
void dqp_stop_all(struct sealmr_conn *c, int err, const char *why);
/* Destroys what dqp_stop_all left, once drained. */
void dqp_delete_all(struct sealmr_conn *c);
/* The rdma_cm event of a data QP's id; false if id is none of them. */
bool dqp_on_cm(struct sealmr_conn *c, struct rdma_cm_id *id, enum rdma_cm_event_type type,
	       int status, const void *priv, uint8_t priv_len);
/* The next data QP that is up, round robin; NULL if none is. */
/* The next data QP that is up, round robin; ext: one with atomic write
 * and RDMA FLUSH. */
struct dqp *dqp_pick(struct sealmr_conn *c, bool ext);
const char *dqp_ext_why(const struct sealmr_conn *c);
unsigned dqp_count_up(const struct sealmr_conn *c);
/* True while some data QP is up or on its way up. */
bool dqp_any_alive(const struct sealmr_conn *c);
/* -ENOTCONN naming why no data QP is up. */
int dqp_none_err(struct sealmr_conn *c);

/* wr.c: one-sided work request records. */
int wr_setup(struct sealmr_conn *c);
void wr_teardown(struct sealmr_conn *c);
/* A free record, or NULL; wr_put gives back one never submitted. */
struct data_wr *wr_get(struct sealmr_conn *c);
void wr_put(struct sealmr_conn *c, struct data_wr *w);
/* Posts records (chained per data QP); those finding no data QP up wait
 * for one. 0, or -errno with the message set: none of ws was taken then
 * if it failed on the first, else the rest complete with the error. */
int wr_submit(struct sealmr_conn *c, struct data_wr **ws, unsigned n);
void wr_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc);
/* A data QP came up: the parked records go out on it. */
void wr_post_parked(struct sealmr_conn *c);
/* No data QP will come up: every parked record fails with err. */
void wr_fail_parked(struct sealmr_conn *c, int err);
/* What a failed data work completion means, as -errno plus the message. */
int wr_wc_err(struct sealmr_conn *c, const struct ibv_wc *wc, uint64_t grant_id);

/* The path MTU check, once the endpoint is connected. */
void quirk_setup(struct sealmr_conn *c);
/* The page size one-sided starts on g must keep to, or 0 (exact placement). */
unsigned quirk_align(const struct sealmr_grant *g);
/* 0, or -EOPNOTSUPP when g's placement needs a path MTU of a page. */
int quirk_check(struct sealmr_conn *c, struct sealmr_grant *g, const char *what);
/* How many bytes from off must go by WRITE_SMALL/READ_SMALL (0 if none). */
uint64_t quirk_head(struct sealmr_conn *c, const struct sealmr_grant *g, uint64_t off,
			 uint64_t len);
/* len bytes at off of g by WRITE_SMALL or READ_SMALL messages (xfer.c). */
int xfer_small(struct sealmr_conn *c, struct sealmr_grant *g, uint64_t off, char *buf,
	       uint64_t len, bool write);

/* atomic.c */
void atomic_wr_done(struct sealmr_conn *c, int status);

/* buf.c */
void buf_free_all(struct sealmr_conn *c);

#endif
