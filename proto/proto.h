/* SPDX-License-Identifier: MIT */
/*
 * proto: the sealmr wire protocol. proto.c is the only code that touches wire
 * bytes; everything else sees the decoded structures below, in host order.
 * PROTOCOL.md beside this file is normative: change both in one commit, and
 * bump PROTO_VERSION on any change to the wire format.
 */
#ifndef SEALMR_PROTO_H
#define SEALMR_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_MAGIC 0x524d4c53u /* "SLMR" as little-endian bytes */
#define PROTO_VERSION 4     /* what this codec speaks by default */
#define PROTO_VERSION_MIN 1 /* the oldest it still encodes and decodes */
#define PROTO_HDR_SIZE 16
#define PROTO_MSG_MAX 4096      /* largest message, and every RECV buffer */
#define PROTO_NAME_MAX 64       /* export names, NUL included */
#define PROTO_PATH_MAX 256
#define PROTO_TEXT_MAX 256      /* error and revoke texts, NUL included */
#define PROTO_LIST_MAX 32       /* exports in one LIST_RESP */
#define PROTO_CONN_PRIV_SIZE 16 /* fits rdma_connect's 56 bytes on RoCE */
/* Version 3's session fields follow the 16 bytes: 40 in all. */
#define PROTO_SESSION_PRIV_SIZE 24
#define PROTO_CONN_PRIV_V3_SIZE (PROTO_CONN_PRIV_SIZE + PROTO_SESSION_PRIV_SIZE)
/* Data queue pairs a session may have at most (v3). */
#define PROTO_SESSION_QPS_MAX 16
#define PROTO_DEFAULT_PORT 7471
/* The admin socket (server/ADMIN.md) unless sealmrd.conf's admin_socket
 * says otherwise: the daemon's and sealmrctl's default. */
#define PROTO_ADMIN_SOCKET_DEFAULT "/run/sealmr/admin.sock"
/* A grant's offset in its export is a multiple of this (OPEN_REQ). */
#define PROTO_GRANT_ALIGN 4096
/* Bytes of file data in one WRITE_SMALL_REQ or READ_SMALL_RESP (v2). */
#define PROTO_SMALL_MAX (PROTO_MSG_MAX - PROTO_HDR_SIZE - 24)

enum proto_type {
	/* client to server: 0x01..0x3f */
	PROTO_LIST_REQ = 0x01,
	PROTO_OPEN_REQ = 0x02,
	PROTO_CLOSE_REQ = 0x03,
	PROTO_COMMIT_REQ = 0x04,
	PROTO_STAT_REQ = 0x05,
	PROTO_WRITE_SMALL_REQ = 0x06, /* version 2 */
	PROTO_READ_SMALL_REQ = 0x07,  /* version 2 */
	/* server replies: 0x40 + request type */
	PROTO_LIST_RESP = 0x41,
	PROTO_GRANT = 0x42,
	PROTO_CLOSE_RESP = 0x43,
	PROTO_COMMIT_RESP = 0x44,
	PROTO_STAT_RESP = 0x45,
	PROTO_WRITE_SMALL_RESP = 0x46,
	PROTO_READ_SMALL_RESP = 0x47,
	/* server to client, either way: 0x80.. */
	PROTO_REVOKE = 0x80,
	PROTO_ERROR = 0x81,
};

enum proto_access {
	PROTO_ACCESS_READ = 1u << 0,
	PROTO_ACCESS_WRITE = 1u << 1,
};

enum proto_mode {
	PROTO_MODE_DAX = 1,
	PROTO_MODE_PAGECACHE = 2,
};

enum proto_reg {
	PROTO_REG_ODP = 1,    /* on-demand paging: fs-dax and page-cache files */
	PROTO_REG_PINNED = 2, /* long-term pin: tmpfs/shmem only */
};

enum proto_persist {
	PROTO_PERSIST_PMEM = 1,      /* MAP_SYNC fs-dax: durable after cache write-back */
	PROTO_PERSIST_PAGECACHE = 2, /* durable after msync */
};

enum proto_flush {
	PROTO_FLUSH_COMMIT = 1u << 0,     /* COMMIT_REQ, always offered */
	PROTO_FLUSH_RDMA_FLUSH = 1u << 1, /* native IBV_WR_FLUSH to the grant */
};

/* Where the daemon's device puts an RDMA packet into the grant (v2). */
enum proto_place {
	PROTO_PLACE_EXACT = 1, /* at its address: any transfer may go one-sided */
	PROTO_PLACE_PAGE = 2,  /* a packet that starts mid-page lands at the page's
				* start (rxe's ODP copy): a transfer's bytes before its
				* first page boundary go by WRITE_SMALL/READ_SMALL */
};

enum proto_revoke_reason {
	PROTO_REVOKE_ADMIN = 1,
	PROTO_REVOKE_EXPORT_REMOVED = 2,
	PROTO_REVOKE_FILE_CHANGED = 3,
	PROTO_REVOKE_SHUTDOWN = 4,
};

/* The rdma_cm private data of CONNECT_REQUEST, ESTABLISHED and REJECTED. */
struct proto_conn_priv {
	uint16_t version;
	uint16_t credits; /* RECVs the sender keeps posted */
	int32_t status;   /* reject: positive errno saying why; else 0 */
	uint32_t max_msg;
};

/*
 * Version 3: bytes 16-39 of the same private data. A connect request with
 * session 0 opens a session (its queue pair is the control QP); one with a
 * session and its token joins that session as a data QP. The accept of a
 * control QP hands the session and token out.
 */
struct proto_session_priv {
	uint64_t session; /* request: 0 or the session joined; accept: the session */
	uint64_t token;   /* join request and control accept: the session's token */
	uint16_t qps;     /* control accept: data QPs it may join; join: this one's index */
};

struct proto_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length; /* whole message, header included */
	uint32_t req_id; /* echoed by the reply; 0 on REVOKE */
};

struct proto_export_info {
	char name[PROTO_NAME_MAX];
	uint64_t size;
	uint32_t access; /* enum proto_access bits */
	uint32_t mode;   /* enum proto_mode */
};

struct proto_list_req {
	uint32_t start; /* index of the first export wanted */
};

struct proto_list_resp {
	uint32_t total;
	uint32_t count;
	struct proto_export_info exports[PROTO_LIST_MAX];
};

struct proto_open_req {
	char export[PROTO_NAME_MAX];
	uint64_t offset;
	uint64_t length;
	uint32_t access;
};

struct proto_grant {
	uint64_t grant_id;
	uint64_t addr;   /* remote address of the grant's first byte */
	uint64_t offset; /* of that byte in the export */
	uint64_t length;
	uint32_t rkey;
	uint32_t access;
	uint32_t persist; /* enum proto_persist */
	uint32_t flush;   /* enum proto_flush bits */
	uint32_t place;   /* enum proto_place; version 2 only (0 in version 1) */
};

struct proto_close_req {
	uint64_t grant_id;
};

struct proto_commit_req {
	uint64_t grant_id;
	uint64_t offset; /* relative to the grant */
	uint64_t length;
};

struct proto_stat_req {
	char export[PROTO_NAME_MAX];
};

struct proto_stat_resp {
	char name[PROTO_NAME_MAX];
	char path[PROTO_PATH_MAX];
	uint64_t size;
	uint32_t access;
	uint32_t mode;
	uint32_t reg;     /* enum proto_reg */
	uint32_t persist; /* enum proto_persist */
	uint32_t grants;  /* live grants on the export, all clients */
	uint32_t sealed;  /* 1 while the file is sealed */
	uint64_t commits;
	/* v4: enum proto_flush bits a grant of this connection's would get
	 * (write access); before version 4 decoded as PROTO_FLUSH_COMMIT. */
	uint32_t flush;
};

/*
 * WRITE_SMALL_REQ and READ_SMALL_RESP carry length bytes of data; the
 * READ_SMALL_REQ and WRITE_SMALL_RESP carry none (version 2).
 */
struct proto_small {
	uint64_t grant_id;
	uint64_t offset; /* relative to the grant */
	uint32_t length; /* 1..PROTO_SMALL_MAX */
	uint32_t flags;  /* none defined: 0 */
	unsigned char data[PROTO_SMALL_MAX];
};

struct proto_revoke {
	uint64_t grant_id;
	uint32_t reason; /* enum proto_revoke_reason */
	char text[PROTO_TEXT_MAX];
};

struct proto_error {
	int32_t err; /* positive errno */
	char text[PROTO_TEXT_MAX];
};

struct proto_msg {
	struct proto_hdr hdr;
	/* CLOSE_RESP carries u.close_req, COMMIT_RESP u.commit_req. */
	union {
		struct proto_list_req list_req;
		struct proto_list_resp list_resp;
		struct proto_open_req open_req;
		struct proto_grant grant;
		struct proto_close_req close_req;
		struct proto_commit_req commit_req;
		struct proto_stat_req stat_req;
		struct proto_stat_resp stat_resp;
		struct proto_small small;
		struct proto_revoke revoke;
		struct proto_error error;
	} u;
};

/*
 * Encodes msg (hdr.type and hdr.req_id taken from it; hdr.version too when
 * not 0, else PROTO_VERSION; magic and length are filled in) into buf. A
 * version outside PROTO_VERSION_MIN..PROTO_VERSION, or a type that version
 * lacks, is -EINVAL. Returns the encoded length, -EINVAL for an
 * unknown type or a string without its NUL, -ENOBUFS if size is too small.
 * A message proto_decode would refuse (an enum value out of range, a LIST
 * count over its bounds, an ERROR err outside 1..4095, a REVOKE with a
 * req_id) is -EINVAL too: it is never sent.
 */
ssize_t proto_encode(const struct proto_msg *msg, void *buf, size_t size);

/*
 * Decodes len bytes at buf into out, reading nothing past len. Returns 0;
 * -EBADMSG for a bad magic, a length that disagrees with len or with the
 * type's size, a string field without NUL, a count over its bound or an
 * unknown enum value; -EPROTONOSUPPORT for a version outside
 * PROTO_VERSION_MIN..PROTO_VERSION; -EPROTO for an unknown type or one the
 * message's version lacks. out->hdr.version says which version it was. On error out->hdr holds what could be read of the header.
 * Also -EBADMSG: a non-NUL byte after a string's NUL (one message, one
 * encoding), an ERROR err outside 1..4095, a REVOKE with a req_id, a
 * message over PROTO_MSG_MAX. On error out->u is all zero.
 */
int proto_decode(const void *buf, size_t len, struct proto_msg *out);

/*
 * Encodes or decodes PROTO_CONN_PRIV_SIZE bytes of connect private data.
 * Decoding returns -EBADMSG (out untouched) for NULL, len below
 * PROTO_CONN_PRIV_SIZE or a bad magic; bytes past it are ignored, and the
 * version is not judged, so the caller can say which one the peer speaks.
 */
void proto_conn_priv_encode(const struct proto_conn_priv *priv, void *buf);
int proto_conn_priv_decode(const void *buf, size_t len, struct proto_conn_priv *out);
/*
 * Version 3's session fields: encode writes bytes 16-39 of buf (the 16
 * before are proto_conn_priv_encode's); decode reads them from the whole
 * private data, -EBADMSG when it is shorter than PROTO_CONN_PRIV_V3_SIZE.
 */
void proto_session_priv_encode(const struct proto_session_priv *s, void *buf);
int proto_session_priv_decode(const void *buf, size_t len, struct proto_session_priv *out);

const char *proto_type_name(uint16_t type);
const char *proto_revoke_reason_name(uint32_t reason);

#endif
