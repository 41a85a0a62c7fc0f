/* SPDX-License-Identifier: MIT */
/* One filled-in message of every type, shared by the proto unit tests. */
#ifndef SEALMR_PROTO_TEST_H
#define SEALMR_PROTO_TEST_H

#include <string.h>

#include "proto.h"

static const uint16_t proto_test_types[] = {
	PROTO_LIST_REQ, PROTO_LIST_RESP, PROTO_OPEN_REQ, PROTO_GRANT,
	PROTO_CLOSE_REQ, PROTO_CLOSE_RESP, PROTO_COMMIT_REQ, PROTO_COMMIT_RESP,
	PROTO_STAT_REQ, PROTO_STAT_RESP, PROTO_REVOKE, PROTO_ERROR,
};
#define PROTO_TEST_NTYPES (sizeof(proto_test_types) / sizeof(proto_test_types[0]))

static inline void proto_test_fill(uint16_t type, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = type;
	m->hdr.req_id = 0x01020304u + type;
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

#endif
