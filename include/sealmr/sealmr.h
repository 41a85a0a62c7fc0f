/* SPDX-License-Identifier: MIT */
/*
 * libsealmr: one-sided RDMA to sealed, persistent files served by sealmrd.
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; sealmr_errmsg() then says what happened in
 * words. A connection is used by one thread at a time.
 */
#ifndef SEALMR_SEALMR_H
#define SEALMR_SEALMR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEALMR_DEFAULT_PORT 7471
#define SEALMR_DEFAULT_QPS 2 /* data queue pairs of a session (struct sealmr_conn_opts.qps) */
#define SEALMR_GRANT_ALIGN 4096 /* sealmr_open's offset is a multiple of this */
#define SEALMR_NAME_MAX 64

struct sealmr_conn;
struct sealmr_grant;
struct sealmr_buf;

enum sealmr_access {
	SEALMR_READ = 1u << 0,
	SEALMR_WRITE = 1u << 1,
};

enum sealmr_mode {
	SEALMR_MODE_DAX = 1,
	SEALMR_MODE_PAGECACHE = 2,
};

enum sealmr_reg {
	SEALMR_REG_ODP = 1,
	SEALMR_REG_PINNED = 2,
};

enum sealmr_persist {
	SEALMR_PERSIST_PMEM = 1,
	SEALMR_PERSIST_PAGECACHE = 2,
};

enum sealmr_flush_method {
	SEALMR_FLUSH_COMMIT = 1u << 0,     /* server-side commit: always there */
	SEALMR_FLUSH_RDMA_FLUSH = 1u << 1, /* native RDMA FLUSH */
};

enum sealmr_revoke_reason {
	SEALMR_REVOKE_ADMIN = 1,
	SEALMR_REVOKE_EXPORT_REMOVED = 2,
	SEALMR_REVOKE_FILE_CHANGED = 3,
	SEALMR_REVOKE_SHUTDOWN = 4,
};

struct sealmr_conn_opts {
	int timeout_ms;    /* connect and control replies; 0: 10000 */
	unsigned depth;    /* outstanding async operations; 0: 64 */
	int reconnect;     /* reconnect and re-open grants after a daemon restart */
	int busy_poll;     /* the caller spins in sealmr_poll() and never sleeps on
			    * sealmr_fd(): no completion events are asked for */
	/* Since 0.2 (programs built before get the defaults): */
	unsigned qps;      /* data queue pairs of the session; 0: SEALMR_DEFAULT_QPS, at most 16 */
};

struct sealmr_export_info {
	char name[SEALMR_NAME_MAX];
	uint64_t size;
	unsigned access; /* enum sealmr_access bits */
	unsigned mode;   /* enum sealmr_mode */
};

struct sealmr_stat {
	char name[SEALMR_NAME_MAX];
	char path[256];
	uint64_t size;
	unsigned access;
	unsigned mode;
	unsigned reg;     /* enum sealmr_reg */
	unsigned persist; /* enum sealmr_persist */
	unsigned grants;
	unsigned sealed;
	uint64_t commits;
	/* enum sealmr_flush_method bits a grant with write access would offer
	 * (since 0.3; a daemon older than protocol version 4 offers the commit) */
	unsigned flush_methods;
};

struct sealmr_grant_info {
	uint64_t id;
	uint64_t offset; /* in the export */
	uint64_t length;
	uint64_t remote_addr;
	uint32_t rkey;
	unsigned access;
	unsigned persist;
	unsigned flush_methods;
};

struct sealmr_completion {
	uint64_t user_ctx;
	int status; /* 0 or negative errno */
	size_t bytes;
};

/* port 0: SEALMR_DEFAULT_PORT; opts NULL: the defaults. *out untouched on failure. */
int sealmr_connect(const char *host, uint16_t port, const struct sealmr_conn_opts *opts,
		   struct sealmr_conn **out);
/* Also frees the connection's grants and buffers still open. NULL is fine. */
void sealmr_disconnect(struct sealmr_conn **conn);
/* conn NULL: the message of this thread's last failed sealmr_connect. */
const char *sealmr_errmsg(const struct sealmr_conn *conn);

/* *out is malloc'ed: free() it. */
int sealmr_list(struct sealmr_conn *conn, struct sealmr_export_info **out, size_t *count);
int sealmr_stat(struct sealmr_conn *conn, const char *export_name, struct sealmr_stat *out);

int sealmr_open(struct sealmr_conn *conn, const char *export_name, uint64_t offset,
		uint64_t length, unsigned access, struct sealmr_grant **out);
/* Gives the grant back to the daemon and frees it. NULL is fine. */
int sealmr_close(struct sealmr_grant **grant);
void sealmr_grant_get_info(const struct sealmr_grant *grant, struct sealmr_grant_info *out);

/* Blocking transfers; off is relative to the grant. */
int sealmr_read(struct sealmr_grant *grant, uint64_t off, void *dst, size_t len);
int sealmr_write(struct sealmr_grant *grant, uint64_t off, const void *src, size_t len);
/* After it returns 0, off .. off+len is durable on the file (len 0: nothing
 * to do). Waits for every write of the connection still in flight first. */
int sealmr_flush(struct sealmr_grant *grant, uint64_t off, uint64_t len);
/*
 * The same by one method: SEALMR_FLUSH_RDMA_FLUSH (a native RDMA FLUSH on a
 * data QP: no daemon CPU; -EOPNOTSUPP, with the reason in sealmr_errmsg,
 * where the grant does not offer it), SEALMR_FLUSH_COMMIT (the daemon's
 * commit), or 0: native where offered, else the commit (sealmr_flush).
 */
int sealmr_flush_with(struct sealmr_grant *grant, uint64_t off, uint64_t len, unsigned method);

/* Registered local memory for the asynchronous transfers. */
int sealmr_buf_reg(struct sealmr_conn *conn, void *addr, size_t len, struct sealmr_buf **out);
void sealmr_buf_dereg(struct sealmr_buf **buf);

int sealmr_read_async(struct sealmr_grant *grant, uint64_t off, struct sealmr_buf *buf,
		      size_t buf_off, size_t len, uint64_t user_ctx);
int sealmr_write_async(struct sealmr_grant *grant, uint64_t off, struct sealmr_buf *buf,
		       size_t buf_off, size_t len, uint64_t user_ctx);
/*
 * Since 0.3. A native RDMA FLUSH of off..+len posted like a transfer, its
 * completion (with user_ctx) reaped the same way: once it completed with 0,
 * the bytes that writes completed before the call put there are durable. A
 * write still in flight is not covered: flush after its completion (it may
 * have gone on another data QP). -EOPNOTSUPP where the grant does not offer
 * the native flush (sealmr_flush_with says why).
 */
int sealmr_flush_async(struct sealmr_grant *grant, uint64_t off, uint64_t len, uint64_t user_ctx);
/* One transfer of a batch: what the async calls take. */
enum sealmr_batch_op {
	SEALMR_BATCH_READ = 0,
	SEALMR_BATCH_WRITE = 1,
	SEALMR_BATCH_FLUSH = 2, /* since 0.3: sealmr_flush_async's; buf unused */
};

struct sealmr_batch_entry {
	struct sealmr_grant *grant;
	uint64_t off; /* in the grant */
	struct sealmr_buf *buf;
	size_t buf_off;
	size_t len;
	unsigned op; /* enum sealmr_batch_op */
	uint64_t user_ctx;
};

/*
 * Since 0.2. Posts n transfers of one connection in one call, chained per
 * data queue pair; each completes on its own, as if given to the async
 * calls one by one (one completion per entry, with its user_ctx). Returns
 * how many were taken from the front: all, or fewer when the depth ran out
 * or an entry was refused (sealmr_errmsg says why; none of the rest was
 * posted); -errno if not even the first was.
 */
int sealmr_batch(struct sealmr_conn *conn, const struct sealmr_batch_entry *entries, size_t n);

/* Readable when completions or control messages (revokes) may be waiting. */
int sealmr_fd(const struct sealmr_conn *conn);
/* Returns up to max completions, 0 if none yet (never blocks); -ENOTCONN
 * once the connection is down and nothing is left to reap. -EAGAIN from the
 * *_async calls: depth operations are outstanding, reap some first. */
int sealmr_poll(struct sealmr_conn *conn, struct sealmr_completion *out, int max);
/* Like sealmr_poll, but waits up to timeout_ms (-1: forever) for one. */
int sealmr_wait(struct sealmr_conn *conn, struct sealmr_completion *out, int max,
		int timeout_ms);

/* 8-byte atomics at an 8-byte aligned offset of the grant. */
int sealmr_atomic_write(struct sealmr_grant *grant, uint64_t off, uint64_t value);
int sealmr_cas(struct sealmr_grant *grant, uint64_t off, uint64_t expected, uint64_t desired,
	       uint64_t *old);
int sealmr_fetch_add(struct sealmr_grant *grant, uint64_t off, uint64_t add, uint64_t *old);

typedef void (*sealmr_revoke_fn)(struct sealmr_grant *grant, unsigned reason,
				 const char *text, void *arg);
void sealmr_set_revoke_cb(struct sealmr_conn *conn, sealmr_revoke_fn fn, void *arg);
/* With opts.reconnect, called after the connection came back (a daemon
 * restart, a link that returned): reopened grants work again, under new
 * grant ids and rkeys; lost ones were also reported to the revoke callback. */
typedef void (*sealmr_reconnect_fn)(struct sealmr_conn *conn, unsigned reopened,
				    unsigned lost, void *arg);
void sealmr_set_reconnect_cb(struct sealmr_conn *conn, sealmr_reconnect_fn fn, void *arg);
/* Handles waiting control messages (revokes) without blocking. */
int sealmr_process(struct sealmr_conn *conn);

#ifdef __cplusplus
}
#endif

#endif
