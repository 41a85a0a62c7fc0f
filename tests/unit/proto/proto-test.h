/* SPDX-License-Identifier: MIT */
/*
 * Shared by the proto unit tests: one filled-in message of every type, the
 * sizes and offsets PROTOCOL.md gives (written out again here, so that the
 * tests check the codec against the spec, not against itself), and buffers
 * that end at an inaccessible page, so a read or write past the end crashes
 * the test whether or not it runs under AddressSanitizer.
 */
#ifndef SEALMR_PROTO_TEST_H
#define SEALMR_PROTO_TEST_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto.h"

#define PROTO_TEST_UNUSED __attribute__((unused))

static const uint16_t proto_test_types[] PROTO_TEST_UNUSED = {
	PROTO_LIST_REQ,	  PROTO_LIST_RESP,   PROTO_OPEN_REQ,   PROTO_GRANT,
	PROTO_CLOSE_REQ,  PROTO_CLOSE_RESP,  PROTO_COMMIT_REQ, PROTO_COMMIT_RESP,
	PROTO_STAT_REQ,	  PROTO_STAT_RESP,   PROTO_REVOKE,     PROTO_ERROR,
	PROTO_WRITE_SMALL_REQ, PROTO_WRITE_SMALL_RESP, PROTO_READ_SMALL_REQ, PROTO_READ_SMALL_RESP,
};
#define PROTO_TEST_NTYPES (sizeof(proto_test_types) / sizeof(proto_test_types[0]))

/*
 * Whole-message sizes in the codec's version (4) from PROTOCOL.md (version
 * 2's and 3's but for STAT_RESP, 376 before 4): LIST_RESP's with count
 * entries, WRITE_SMALL_REQ's and READ_SMALL_RESP's with count bytes of data.
 */
static inline size_t proto_test_wire_len(uint16_t type, uint32_t count)
{
	switch (type) {
	case PROTO_LIST_REQ: return 20;
	case PROTO_LIST_RESP: return 24 + 80 * (size_t)count;
	case PROTO_OPEN_REQ: return 100;
	case PROTO_GRANT: return 68;
	case PROTO_WRITE_SMALL_REQ: case PROTO_READ_SMALL_RESP: return 40 + (size_t)count;
	case PROTO_WRITE_SMALL_RESP: case PROTO_READ_SMALL_REQ: return 40;
	case PROTO_CLOSE_REQ: case PROTO_CLOSE_RESP: return 24;
	case PROTO_COMMIT_REQ: case PROTO_COMMIT_RESP: return 40;
	case PROTO_STAT_REQ: return 80;
	case PROTO_STAT_RESP: return 380;
	case PROTO_REVOKE: return 284;
	case PROTO_ERROR: return 276;
	default: return 0;
	}
}

/* The same in version 1, which has no small transfers: 0 for those. */
static inline size_t proto_test_wire_len_v1(uint16_t type, uint32_t count)
{
	switch (type) {
	case PROTO_GRANT: return 64;
	case PROTO_STAT_RESP: return 376;
	case PROTO_WRITE_SMALL_REQ: case PROTO_READ_SMALL_RESP:
	case PROTO_WRITE_SMALL_RESP: case PROTO_READ_SMALL_REQ: return 0;
	default: return proto_test_wire_len(type, count);
	}
}

/* The count proto_test_fill gives the types whose size has one. */
static inline uint32_t proto_test_count(uint16_t type)
{
	return type == PROTO_LIST_RESP || type == PROTO_WRITE_SMALL_REQ ||
			       type == PROTO_READ_SMALL_RESP
		       ? 2
		       : 0;
}

/* Every string field on the wire: where it starts in its message, its size. */
struct proto_test_str {
	uint16_t type;
	size_t off;
	size_t size;
};

static const struct proto_test_str proto_test_strs[] PROTO_TEST_UNUSED = {
	{ PROTO_LIST_RESP, 24, PROTO_NAME_MAX },  /* exports[0].name */
	{ PROTO_LIST_RESP, 104, PROTO_NAME_MAX }, /* exports[1].name */
	{ PROTO_OPEN_REQ, 16, PROTO_NAME_MAX },	  { PROTO_STAT_REQ, 16, PROTO_NAME_MAX },
	{ PROTO_STAT_RESP, 16, PROTO_NAME_MAX },  { PROTO_STAT_RESP, 80, PROTO_PATH_MAX },
	{ PROTO_REVOKE, 28, PROTO_TEXT_MAX },	  { PROTO_ERROR, 20, PROTO_TEXT_MAX },
};
#define PROTO_TEST_NSTRS (sizeof(proto_test_strs) / sizeof(proto_test_strs[0]))

static inline void proto_test_put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t proto_test_get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void proto_test_fill(uint16_t type, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = type;
	m->hdr.req_id = type == PROTO_REVOKE ? 0 : 0x01020304u + type;
	switch (type) {
	case PROTO_LIST_REQ:
		m->u.list_req.start = 3;
		break;
	case PROTO_LIST_RESP:
		m->u.list_resp.total = 40;
		m->u.list_resp.count = 2;
		strcpy(m->u.list_resp.exports[0].name, "data");
		m->u.list_resp.exports[0].size = 1ull << 40;
		m->u.list_resp.exports[0].access = PROTO_ACCESS_READ | PROTO_ACCESS_WRITE;
		m->u.list_resp.exports[0].mode = PROTO_MODE_DAX;
		strcpy(m->u.list_resp.exports[1].name, "logs");
		m->u.list_resp.exports[1].size = 4096;
		m->u.list_resp.exports[1].access = PROTO_ACCESS_READ;
		m->u.list_resp.exports[1].mode = PROTO_MODE_PAGECACHE;
		break;
	case PROTO_OPEN_REQ:
		strcpy(m->u.open_req.export, "data");
		m->u.open_req.offset = 0x123456789000ull;
		m->u.open_req.length = 0xfedcba987654ull;
		m->u.open_req.access = PROTO_ACCESS_READ | PROTO_ACCESS_WRITE;
		break;
	case PROTO_GRANT:
		m->u.grant.grant_id = 77;
		m->u.grant.addr = 0x7f0000200000ull;
		m->u.grant.offset = 8192;
		m->u.grant.length = 1u << 20;
		m->u.grant.rkey = 0xdeadbeef;
		m->u.grant.access = PROTO_ACCESS_READ;
		m->u.grant.persist = PROTO_PERSIST_PMEM;
		m->u.grant.flush = PROTO_FLUSH_COMMIT;
		m->u.grant.place = PROTO_PLACE_PAGE;
		break;
	case PROTO_WRITE_SMALL_REQ:
	case PROTO_READ_SMALL_RESP:
		m->u.small.data[0] = 0xa5;
		m->u.small.data[1] = 0x5a;
		/* fall through */
	case PROTO_WRITE_SMALL_RESP:
	case PROTO_READ_SMALL_REQ:
		m->u.small.grant_id = 12;
		m->u.small.offset = 4196;
		m->u.small.length = 2;
		break;
	case PROTO_CLOSE_REQ:
	case PROTO_CLOSE_RESP:
		m->u.close_req.grant_id = 0x8000000000000001ull;
		break;
	case PROTO_COMMIT_REQ:
	case PROTO_COMMIT_RESP:
		m->u.commit_req.grant_id = 5;
		m->u.commit_req.offset = 4096;
		m->u.commit_req.length = 65536;
		break;
	case PROTO_STAT_REQ:
		strcpy(m->u.stat_req.export, "data");
		break;
	case PROTO_STAT_RESP:
		strcpy(m->u.stat_resp.name, "data");
		strcpy(m->u.stat_resp.path, "/mnt/dax-xfs/data");
		m->u.stat_resp.size = 256u << 20;
		m->u.stat_resp.access = PROTO_ACCESS_READ | PROTO_ACCESS_WRITE;
		m->u.stat_resp.mode = PROTO_MODE_DAX;
		m->u.stat_resp.reg = PROTO_REG_ODP;
		m->u.stat_resp.persist = PROTO_PERSIST_PMEM;
		m->u.stat_resp.grants = 3;
		m->u.stat_resp.sealed = 1;
		m->u.stat_resp.commits = 99;
		m->u.stat_resp.flush = PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH;
		break;
	case PROTO_REVOKE:
		m->u.revoke.grant_id = 9;
		m->u.revoke.reason = PROTO_REVOKE_ADMIN;
		strcpy(m->u.revoke.text, "revoked by sealmrctl");
		break;
	case PROTO_ERROR:
		m->u.error.err = 2;
		strcpy(m->u.error.text, "no export 'x'");
		break;
	}
}

/* Bytes that end where an inaccessible page begins. */
struct proto_test_guard {
	unsigned char *map;
	size_t map_len;
};

static inline unsigned char *proto_test_guard_new(struct proto_test_guard *g, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + pg - 1) / pg * pg;

	g->map_len = data + pg;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED || mprotect(g->map + data, pg, PROT_NONE))
		return NULL;
	return g->map + data - len;
}

static inline void proto_test_guard_delete(struct proto_test_guard *g)
{
	munmap(g->map, g->map_len);
}

/* A copy of len bytes of src that ends at a guard page. */
static inline unsigned char *proto_test_guarded(struct proto_test_guard *g, const void *src,
						size_t len)
{
	unsigned char *p = proto_test_guard_new(g, len);

	if (p)
		memcpy(p, src, len);
	return p;
}

#endif
