/* SPDX-License-Identifier: MIT */
/* Unit tests of proto_encode: the bytes PROTOCOL.md promises, and refusals. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto-test.h"

static ssize_t encode(const struct proto_msg *m, unsigned char *buf)
{
	return proto_encode(m, buf, PROTO_MSG_MAX);
}

static void assert_le(const unsigned char *buf, size_t off, int bytes, uint64_t want)
{
	assert_int_equal(proto_test_get_le(buf + off, bytes), want);
}

static void proto_encode__header_is_little_endian(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_CLOSE_REQ, &m);
	assert_int_equal(encode(&m, buf), 24);
	assert_memory_equal(buf, "SLMR\x04\x00\x03\x00\x18\x00\x00\x00\x07\x03\x02\x01", 16);
	assert_memory_equal(buf + 16, "\x01\x00\x00\x00\x00\x00\x00\x80", 8);
}

static void proto_encode__every_type_has_its_documented_length(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		uint16_t type = proto_test_types[i];

		proto_test_fill(type, &m);
		assert_int_equal(encode(&m, buf), proto_test_wire_len(type, 2));
		assert_le(buf, 8, 4, proto_test_wire_len(type, 2));
		/* And in version 1, for the types it has. */
		m.hdr.version = 1;
		if (proto_test_wire_len_v1(type, 2)) {
			assert_int_equal(encode(&m, buf), proto_test_wire_len_v1(type, 2));
			assert_le(buf, 4, 2, 1);
		} else {
			assert_int_equal(encode(&m, buf), -EINVAL);
		}
		assert_le(buf, 6, 2, type);
	}
}

static void proto_encode__fields_land_at_documented_offsets(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_GRANT, &m);
	encode(&m, buf);
	assert_le(buf, 16, 8, 77);
	assert_le(buf, 24, 8, 0x7f0000200000ull);
	assert_le(buf, 32, 8, 8192);
	assert_le(buf, 40, 8, 1u << 20);
	assert_le(buf, 48, 4, 0xdeadbeef);
	assert_le(buf, 52, 4, PROTO_ACCESS_READ);
	assert_le(buf, 56, 4, PROTO_PERSIST_PMEM);
	assert_le(buf, 60, 4, PROTO_FLUSH_COMMIT);
	assert_le(buf, 64, 4, PROTO_PLACE_PAGE);

	proto_test_fill(PROTO_WRITE_SMALL_REQ, &m);
	encode(&m, buf);
	assert_le(buf, 16, 8, 12);
	assert_le(buf, 24, 8, 4196);
	assert_le(buf, 32, 4, 2);
	assert_le(buf, 36, 4, 0);
	assert_le(buf, 40, 2, 0x5aa5);

	proto_test_fill(PROTO_READ_SMALL_REQ, &m);
	encode(&m, buf);
	assert_le(buf, 16, 8, 12);
	assert_le(buf, 32, 4, 2);

	proto_test_fill(PROTO_OPEN_REQ, &m);
	encode(&m, buf);
	assert_string_equal(buf + 16, "data");
	assert_le(buf, 80, 8, 0x123456789000ull);
	assert_le(buf, 88, 8, 0xfedcba987654ull);
	assert_le(buf, 96, 4, PROTO_ACCESS_READ | PROTO_ACCESS_WRITE);

	proto_test_fill(PROTO_LIST_RESP, &m);
	encode(&m, buf);
	assert_le(buf, 16, 4, 40);
	assert_le(buf, 20, 4, 2);
	assert_string_equal(buf + 24, "data");
	assert_le(buf, 24 + 64, 8, 1ull << 40);
	assert_le(buf, 24 + 72, 4, PROTO_ACCESS_READ | PROTO_ACCESS_WRITE);
	assert_le(buf, 24 + 76, 4, PROTO_MODE_DAX);
	assert_string_equal(buf + 104, "logs");
	assert_le(buf, 104 + 64, 8, 4096);
	assert_le(buf, 104 + 76, 4, PROTO_MODE_PAGECACHE);

	proto_test_fill(PROTO_STAT_RESP, &m);
	encode(&m, buf);
	assert_string_equal(buf + 16, "data");
	assert_string_equal(buf + 80, "/mnt/dax-xfs/data");
	assert_le(buf, 336, 8, 256u << 20);
	assert_le(buf, 352, 4, PROTO_REG_ODP);
	assert_le(buf, 360, 4, 3);
	assert_le(buf, 376, 4, PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH);
	assert_le(buf, 364, 4, 1);
	assert_le(buf, 368, 8, 99);

	proto_test_fill(PROTO_COMMIT_RESP, &m);
	encode(&m, buf);
	assert_le(buf, 16, 8, 5);
	assert_le(buf, 24, 8, 4096);
	assert_le(buf, 32, 8, 65536);

	proto_test_fill(PROTO_REVOKE, &m);
	encode(&m, buf);
	assert_le(buf, 12, 4, 0);
	assert_le(buf, 16, 8, 9);
	assert_le(buf, 24, 4, PROTO_REVOKE_ADMIN);
	assert_string_equal(buf + 28, "revoked by sealmrctl");

	proto_test_fill(PROTO_ERROR, &m);
	encode(&m, buf);
	assert_le(buf, 16, 4, 2);
	assert_string_equal(buf + 20, "no export 'x'");
}

static void proto_encode__header_fields_of_msg_are_ignored(void **state)
{
	unsigned char a[PROTO_MSG_MAX], b[PROTO_MSG_MAX];
	struct proto_msg m;
	ssize_t n;

	proto_test_fill(PROTO_STAT_REQ, &m);
	n = encode(&m, a);
	m.hdr.magic = 0x12345678;
	m.hdr.length = 3;
	assert_int_equal(encode(&m, b), n);
	assert_memory_equal(a, b, (size_t)n);
	/* The version is the caller's, where it gives one it may encode. */
	m.hdr.version = PROTO_VERSION;
	assert_int_equal(encode(&m, b), n);
	assert_memory_equal(a, b, (size_t)n);
	m.hdr.version = PROTO_VERSION + 1;
	assert_int_equal(encode(&m, b), -EINVAL);
	m.hdr.version = 99;
	assert_int_equal(encode(&m, b), -EINVAL);
}

static void proto_encode__small_lengths_and_flags(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_WRITE_SMALL_REQ, &m);
	m.u.small.length = PROTO_SMALL_MAX;
	assert_int_equal(encode(&m, buf), PROTO_MSG_MAX);
	m.u.small.length = PROTO_SMALL_MAX + 1;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.small.length = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_READ_SMALL_REQ, &m);
	m.u.small.length = PROTO_SMALL_MAX;
	assert_int_equal(encode(&m, buf), 40);
	m.u.small.flags = 1;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_GRANT, &m);
	m.u.grant.place = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.grant.place = 3;
	assert_int_equal(encode(&m, buf), -EINVAL);
	/* Version 1 has no place: whatever is there stays home. */
	m.hdr.version = 1;
	assert_int_equal(encode(&m, buf), 64);
}

/* The structure's string field that proto_test_strs[i] puts on the wire. */
static char *str_field(struct proto_msg *m, const struct proto_test_str *s)
{
	switch (s->type) {
	case PROTO_LIST_RESP:
		return m->u.list_resp.exports[s->off == 24 ? 0 : 1].name;
	case PROTO_OPEN_REQ:
		return m->u.open_req.export;
	case PROTO_STAT_REQ:
		return m->u.stat_req.export;
	case PROTO_STAT_RESP:
		return s->off == 16 ? m->u.stat_resp.name : m->u.stat_resp.path;
	case PROTO_REVOKE:
		return m->u.revoke.text;
	default:
		return m->u.error.text;
	}
}

static void proto_encode__junk_after_nul_in_memory_is_not_sent(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	for (size_t i = 0; i < PROTO_TEST_NSTRS; i++) {
		const struct proto_test_str *s = &proto_test_strs[i];
		char *f;

		proto_test_fill(s->type, &m);
		f = str_field(&m, s);
		memset(f, 'z', s->size);
		f[3] = '\0';
		assert_int_equal(encode(&m, buf), proto_test_wire_len(s->type, 2));
		assert_memory_equal(buf + s->off, "zzz", 3);
		for (size_t b = 3; b < s->size; b++)
			assert_int_equal(buf[s->off + b], 0);
	}
}

static void proto_encode__small_buffer_is_enobufs(void **state)
{
	struct proto_msg m;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		size_t n = proto_test_wire_len(proto_test_types[i], 2);

		proto_test_fill(proto_test_types[i], &m);
		/* Nothing is written past size: the guard page would fault. */
		for (size_t size = 0; size <= n; size++) {
			struct proto_test_guard g;
			unsigned char *p = proto_test_guard_new(&g, size);

			assert_non_null(p);
			assert_int_equal(proto_encode(&m, p, size),
					 size < n ? -ENOBUFS : (ssize_t)n);
			proto_test_guard_delete(&g);
		}
	}
}

static void proto_encode__unknown_type_is_einval(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_LIST_REQ, &m);
	for (unsigned t = 0; t <= UINT16_MAX; t++) {
		m.hdr.type = (uint16_t)t;
		if (!proto_test_wire_len((uint16_t)t, 0))
			assert_int_equal(encode(&m, buf), -EINVAL);
	}
}

static void proto_encode__string_without_nul_is_einval(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	for (size_t i = 0; i < PROTO_TEST_NSTRS; i++) {
		const struct proto_test_str *s = &proto_test_strs[i];

		proto_test_fill(s->type, &m);
		memset(str_field(&m, s), 'a', s->size - 1);
		assert_int_equal(encode(&m, buf), proto_test_wire_len(s->type, 2));
		str_field(&m, s)[s->size - 1] = 'a';
		assert_int_equal(encode(&m, buf), -EINVAL);
	}
}

static void proto_encode__list_count_over_max_or_total_is_einval(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_LIST_RESP, &m);
	m.u.list_resp.total = UINT32_MAX;
	m.u.list_resp.count = PROTO_LIST_MAX + 1;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.list_resp.count = UINT32_MAX;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_LIST_RESP, &m);
	m.u.list_resp.total = 1;
	assert_int_equal(encode(&m, buf), -EINVAL);
}

static void proto_encode__largest_message_fits_a_receive_buffer(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_LIST_RESP, &m);
	m.u.list_resp.count = m.u.list_resp.total = PROTO_LIST_MAX;
	for (int i = 0; i < PROTO_LIST_MAX; i++) {
		memset(m.u.list_resp.exports[i].name, 'n', PROTO_NAME_MAX - 1);
		m.u.list_resp.exports[i].access = PROTO_ACCESS_READ;
		m.u.list_resp.exports[i].mode = PROTO_MODE_DAX;
	}
	assert_int_equal(encode(&m, buf), proto_test_wire_len(PROTO_LIST_RESP, PROTO_LIST_MAX));
	assert_true(proto_test_wire_len(PROTO_LIST_RESP, PROTO_LIST_MAX) <= PROTO_MSG_MAX);
}

static void proto_encode__what_decode_refuses_is_einval(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_OPEN_REQ, &m);
	m.u.open_req.access = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.open_req.access = 4;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_GRANT, &m);
	m.u.grant.persist = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_GRANT, &m);
	m.u.grant.flush = PROTO_FLUSH_RDMA_FLUSH;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_LIST_RESP, &m);
	m.u.list_resp.exports[1].mode = 3;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_STAT_RESP, &m);
	m.u.stat_resp.reg = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_STAT_RESP, &m);
	m.u.stat_resp.sealed = 2;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_REVOKE, &m);
	m.u.revoke.reason = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	proto_test_fill(PROTO_ERROR, &m);
	m.u.error.err = 0;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.error.err = -EIO;
	assert_int_equal(encode(&m, buf), -EINVAL);
	m.u.error.err = 4096;
	assert_int_equal(encode(&m, buf), -EINVAL);
}

static void proto_encode__revoke_with_req_id_is_einval(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;

	proto_test_fill(PROTO_REVOKE, &m);
	m.hdr.req_id = 1;
	assert_int_equal(encode(&m, buf), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_encode__header_is_little_endian),
		cmocka_unit_test(proto_encode__small_lengths_and_flags),
		cmocka_unit_test(proto_encode__every_type_has_its_documented_length),
		cmocka_unit_test(proto_encode__fields_land_at_documented_offsets),
		cmocka_unit_test(proto_encode__header_fields_of_msg_are_ignored),
		cmocka_unit_test(proto_encode__junk_after_nul_in_memory_is_not_sent),
		cmocka_unit_test(proto_encode__small_buffer_is_enobufs),
		cmocka_unit_test(proto_encode__unknown_type_is_einval),
		cmocka_unit_test(proto_encode__string_without_nul_is_einval),
		cmocka_unit_test(proto_encode__list_count_over_max_or_total_is_einval),
		cmocka_unit_test(proto_encode__largest_message_fits_a_receive_buffer),
		cmocka_unit_test(proto_encode__what_decode_refuses_is_einval),
		cmocka_unit_test(proto_encode__revoke_with_req_id_is_einval),
	};
	return cmocka_run_group_tests_name("proto_encode", tests, NULL, NULL);
}
