/* SPDX-License-Identifier: MIT */
/* Unit tests of proto_decode: everything a hostile peer could send. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "proto-test.h"

/* Encodes the test message of a type into buf; returns its length. */
static size_t encode_type(uint16_t type, unsigned char *buf, struct proto_msg *m)
{
	ssize_t n;

	proto_test_fill(type, m);
	n = proto_encode(m, buf, PROTO_MSG_MAX);
	assert_int_equal(n, proto_test_wire_len(type, proto_test_count(type)));
	return (size_t)n;
}

/* Decodes a copy of exactly len bytes that ends at a guard page. */
static int decode_guarded(const unsigned char *buf, size_t len, struct proto_msg *out)
{
	struct proto_test_guard g;
	unsigned char *p = proto_test_guarded(&g, buf, len);
	int rc;

	assert_non_null(p);
	rc = proto_decode(p, len, out);
	proto_test_guard_delete(&g);
	return rc;
}

static void assert_round_trip(const struct proto_msg *m)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg d;
	ssize_t n = proto_encode(m, buf, sizeof(buf));

	assert_true(n > 0);
	assert_int_equal(decode_guarded(buf, (size_t)n, &d), 0);
	assert_int_equal(d.hdr.magic, PROTO_MAGIC);
	assert_int_equal(d.hdr.version, PROTO_VERSION);
	assert_int_equal(d.hdr.type, m->hdr.type);
	assert_int_equal(d.hdr.length, n);
	assert_int_equal(d.hdr.req_id, m->hdr.req_id);
	assert_memory_equal(&d.u, &m->u, sizeof(m->u));
}

static void proto_decode__every_type_round_trips(void **state)
{
	struct proto_msg m;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		proto_test_fill(proto_test_types[i], &m);
		assert_round_trip(&m);
	}
}

static void proto_decode__list_resp_of_every_count_round_trips(void **state)
{
	struct proto_msg m;

	/* Entries past count are not on the wire: they decode as zeros. */
	proto_test_fill(PROTO_LIST_RESP, &m);
	memset(m.u.list_resp.exports, 0, sizeof(m.u.list_resp.exports));
	m.u.list_resp.total = PROTO_LIST_MAX;
	for (uint32_t count = 0; count <= PROTO_LIST_MAX; count++) {
		m.u.list_resp.count = count;
		for (uint32_t i = 0; i < count; i++) {
			struct proto_export_info *e = &m.u.list_resp.exports[i];

			memset(e->name, 'a' + (int)(i % 26), PROTO_NAME_MAX - 1);
			e->size = ~0ull - i;
			e->access = PROTO_ACCESS_READ;
			e->mode = PROTO_MODE_PAGECACHE;
		}
		assert_round_trip(&m);
	}
}

static void proto_decode__extreme_values_round_trip(void **state)
{
	struct proto_msg m;

	proto_test_fill(PROTO_GRANT, &m);
	m.hdr.req_id = UINT32_MAX;
	m.u.grant.grant_id = m.u.grant.addr = m.u.grant.offset = m.u.grant.length = UINT64_MAX;
	m.u.grant.rkey = UINT32_MAX;
	m.u.grant.access = PROTO_ACCESS_WRITE;
	m.u.grant.persist = PROTO_PERSIST_PAGECACHE;
	m.u.grant.flush = PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH;
	assert_round_trip(&m);
	proto_test_fill(PROTO_ERROR, &m);
	m.u.error.err = 4095;
	memset(m.u.error.text, 0xff, PROTO_TEXT_MAX - 1);
	assert_round_trip(&m);
}

static void proto_decode__every_truncation_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		size_t n = encode_type(proto_test_types[i], buf, &m);

		for (size_t len = 0; len < n; len++) {
			unsigned char cut[PROTO_MSG_MAX];

			assert_int_equal(decode_guarded(buf, len, &d), -EBADMSG);
			/* Even with the length field telling the truth. */
			if (len < PROTO_HDR_SIZE)
				continue;
			memcpy(cut, buf, len);
			proto_test_put_le32(cut + 8, (uint32_t)len);
			assert_int_equal(decode_guarded(cut, len, &d), -EBADMSG);
		}
	}
}

static bool is_small(uint16_t t)
{
	return t == PROTO_WRITE_SMALL_REQ || t == PROTO_WRITE_SMALL_RESP ||
	       t == PROTO_READ_SMALL_REQ || t == PROTO_READ_SMALL_RESP;
}

/* What a header with one byte changed must decode to, from the spec alone. */
static int expected_rc(uint16_t type, size_t byte, const unsigned char *msg, size_t n)
{
	uint16_t v = (uint16_t)proto_test_get_le(msg + 4, 2);
	uint16_t t = (uint16_t)proto_test_get_le(msg + 6, 2);
	uint32_t small_len = (uint32_t)proto_test_get_le(msg + 32, 4);
	uint32_t small_flags = (uint32_t)proto_test_get_le(msg + 36, 4);

	if (byte < 4 || (byte >= 8 && byte < 12))
		return -EBADMSG; /* magic, length */
	if (byte < 6) {
		/* Versions 2 and 3 have version 4's messages but for STAT_RESP,
		 * 4 bytes shorter before 4. */
		if (v == 2 || v == 3)
			return type == PROTO_STAT_RESP ? -EBADMSG : 0;
		if (v != 1)
			return -EPROTONOSUPPORT;
		/* Version 1: the small types are unknown, GRANT is shorter. */
		if (proto_test_wire_len_v1(type, 2) == 0)
			return -EPROTO;
		return proto_test_wire_len_v1(type, 2) == n ? 0 : -EBADMSG;
	}
	if (byte >= 12)
		return type == PROTO_REVOKE ? -EBADMSG : 0; /* req_id */
	if (proto_test_wire_len(t, 2) == 0)
		return -EPROTO;
	/* Another known type decodes only if it has the same size... */
	if (proto_test_wire_len(t, 2) != n)
		return -EBADMSG;
	/* ...and its body is valid: CLOSE and COMMIT bodies of either side
	 * are, a small one where its length and flags are. */
	if (is_small(t))
		return small_len >= 1 && small_len <= PROTO_SMALL_MAX && small_flags == 0 ? 0
											 : -EBADMSG;
	return t == PROTO_REVOKE || t == PROTO_ERROR ? -EBADMSG : 0;
}

static void proto_decode__header_byte_corruption_is_refused(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		uint16_t type = proto_test_types[i];
		size_t n = encode_type(type, buf, &m);

		for (size_t byte = 0; byte < PROTO_HDR_SIZE; byte++) {
			for (unsigned v = 0; v < 256; v++) {
				unsigned char bad[PROTO_MSG_MAX];
				int want;

				if (v == buf[byte])
					continue;
				memcpy(bad, buf, n);
				bad[byte] = (unsigned char)v;
				want = expected_rc(type, byte, bad, n);
				assert_int_equal(decode_guarded(bad, n, &d), want);
				if (want == 0 && byte >= 12)
					assert_int_not_equal(d.hdr.req_id, m.hdr.req_id);
				if (want == 0 && byte < 12)
					assert_true(d.hdr.type != type || d.hdr.version != PROTO_VERSION);
			}
		}
	}
}

static void proto_decode__length_field_that_lies_is_ebadmsg(void **state)
{
	const uint32_t lies[] = { 0, 1, PROTO_HDR_SIZE, PROTO_MSG_MAX, 0x10000, UINT32_MAX };
	unsigned char buf[PROTO_MSG_MAX + 1] = { 0 };
	struct proto_msg m, d;

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		size_t n = encode_type(proto_test_types[i], buf, &m);

		proto_test_put_le32(buf + 8, (uint32_t)n + 1);
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
		proto_test_put_le32(buf + 8, (uint32_t)n - 1);
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
		for (size_t l = 0; l < sizeof(lies) / sizeof(lies[0]); l++) {
			proto_test_put_le32(buf + 8, lies[l]);
			assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
		}
		/* More bytes received than the message says. */
		proto_test_put_le32(buf + 8, (uint32_t)n);
		buf[n] = 0;
		assert_int_equal(decode_guarded(buf, n + 1, &d), -EBADMSG);
	}
}

static void proto_decode__over_msg_max_is_ebadmsg(void **state)
{
	static unsigned char buf[PROTO_MSG_MAX + 80];
	struct proto_msg m, d;
	size_t n = encode_type(PROTO_LIST_RESP, buf, &m);

	/* Agreeing with itself, but larger than any receive buffer. */
	for (n = PROTO_MSG_MAX + 1; n < sizeof(buf); n += 13) {
		proto_test_put_le32(buf + 8, (uint32_t)n);
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	}
}

static void proto_decode__other_version_is_eprotonosupport(void **state)
{
	const uint16_t versions[] = { 0, PROTO_VERSION + 1, 0x100 + PROTO_VERSION, UINT16_MAX };
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		/* Judged before the body, whose size another version may change. */
		size_t n = encode_type(PROTO_COMMIT_REQ, buf, &m) - 8;

		proto_test_put_le32(buf + 8, (uint32_t)n);
		buf[4] = (unsigned char)versions[v];
		buf[5] = (unsigned char)(versions[v] >> 8);
		assert_int_equal(decode_guarded(buf, n, &d), -EPROTONOSUPPORT);
		assert_int_equal(d.hdr.version, versions[v]);
		assert_int_equal(d.hdr.type, PROTO_COMMIT_REQ);
		assert_int_equal(d.hdr.req_id, m.hdr.req_id);
	}
}

static void proto_decode__unknown_type_is_eproto(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	size_t n = encode_type(PROTO_LIST_REQ, buf, &m);

	for (unsigned t = 0; t <= UINT16_MAX; t++) {
		if (proto_test_wire_len((uint16_t)t, 0))
			continue;
		buf[6] = (unsigned char)t;
		buf[7] = (unsigned char)(t >> 8);
		assert_int_equal(proto_decode(buf, n, &d), -EPROTO);
		assert_int_equal(d.hdr.type, t);
		assert_int_equal(d.hdr.req_id, m.hdr.req_id);
	}
}

static void proto_decode__string_without_nul_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (size_t i = 0; i < PROTO_TEST_NSTRS; i++) {
		const struct proto_test_str *s = &proto_test_strs[i];
		size_t n = encode_type(s->type, buf, &m);

		memset(buf + s->off, 'x', s->size);
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	}
}

static void proto_decode__bytes_after_nul_are_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	/* The padding must be NULs: one message, one encoding. */
	for (size_t i = 0; i < PROTO_TEST_NSTRS; i++) {
		const struct proto_test_str *s = &proto_test_strs[i];
		size_t n = encode_type(s->type, buf, &m);

		buf[s->off + s->size - 1] = 'x';
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	}
}

static void proto_decode__longest_and_empty_strings_are_accepted(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (size_t i = 0; i < PROTO_TEST_NSTRS; i++) {
		const struct proto_test_str *s = &proto_test_strs[i];
		size_t n = encode_type(s->type, buf, &m);

		memset(buf + s->off, 'x', s->size - 1);
		assert_int_equal(decode_guarded(buf, n, &d), 0);
		memset(buf + s->off, 0, s->size);
		assert_int_equal(decode_guarded(buf, n, &d), 0);
	}
}

static void proto_decode__list_count_over_max_is_ebadmsg(void **state)
{
	const size_t n = 24 + 80 * (PROTO_LIST_MAX + 1);
	unsigned char buf[PROTO_MSG_MAX] = { 0 };
	struct proto_msg m, d;

	/* Valid entries, a length that agrees: only the count is too high. */
	encode_type(PROTO_LIST_RESP, buf, &m);
	assert_true(n <= PROTO_MSG_MAX);
	for (size_t i = 1; i < PROTO_LIST_MAX + 1; i++)
		memcpy(buf + 24 + 80 * i, buf + 24, 80);
	proto_test_put_le32(buf + 8, (uint32_t)n);
	proto_test_put_le32(buf + 16, 1000);
	proto_test_put_le32(buf + 20, PROTO_LIST_MAX + 1);
	assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	proto_test_put_le32(buf + 20, UINT32_MAX);
	assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	/* One fewer is fine. */
	proto_test_put_le32(buf + 8, (uint32_t)n - 80);
	proto_test_put_le32(buf + 20, PROTO_LIST_MAX);
	assert_int_equal(decode_guarded(buf, n - 80, &d), 0);
	assert_int_equal(d.u.list_resp.count, PROTO_LIST_MAX);
}

static void proto_decode__list_count_over_total_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	size_t n = encode_type(PROTO_LIST_RESP, buf, &m);

	proto_test_put_le32(buf + 16, 1);
	assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	proto_test_put_le32(buf + 16, 2);
	assert_int_equal(decode_guarded(buf, n, &d), 0);
}

static void proto_decode__list_count_against_length_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	size_t n = encode_type(PROTO_LIST_RESP, buf, &m);

	for (uint32_t count = 0; count <= PROTO_LIST_MAX; count++) {
		if (count == 2)
			continue;
		proto_test_put_le32(buf + 20, count);
		assert_int_equal(decode_guarded(buf, n, &d), -EBADMSG);
	}
}

/* A u32 field and values PROTOCOL.md forbids or allows there. */
struct field_case {
	uint16_t type;
	size_t off;
	uint32_t value;
};

static const struct field_case bad_values[] = {
	{ PROTO_OPEN_REQ, 96, 0 },	       { PROTO_OPEN_REQ, 96, 4 },
	{ PROTO_OPEN_REQ, 96, 7 },	       { PROTO_OPEN_REQ, 96, 0x80000001u },
	{ PROTO_GRANT, 52, 0 },		       { PROTO_GRANT, 52, 8 },
	{ PROTO_GRANT, 56, 0 },		       { PROTO_GRANT, 56, 3 },
	{ PROTO_GRANT, 60, 0 },		       { PROTO_GRANT, 60, PROTO_FLUSH_RDMA_FLUSH },
	{ PROTO_GRANT, 60, 5 },		       { PROTO_LIST_RESP, 24 + 72, 0 },
	{ PROTO_LIST_RESP, 104 + 72, 9 },      { PROTO_LIST_RESP, 24 + 76, 0 },
	{ PROTO_LIST_RESP, 104 + 76, 3 },      { PROTO_STAT_RESP, 344, 0 },
	{ PROTO_STAT_RESP, 344, 4 },	       { PROTO_STAT_RESP, 348, 0 },
	{ PROTO_STAT_RESP, 348, 3 },	       { PROTO_STAT_RESP, 352, 0 },
	{ PROTO_STAT_RESP, 352, 3 },	       { PROTO_STAT_RESP, 356, 0 },
	{ PROTO_STAT_RESP, 356, 3 },	       { PROTO_STAT_RESP, 364, 2 },
	{ PROTO_STAT_RESP, 364, UINT32_MAX },  { PROTO_REVOKE, 24, 0 },
	{ PROTO_STAT_RESP, 376, 0 /* flush */ }, { PROTO_STAT_RESP, 376, PROTO_FLUSH_RDMA_FLUSH },
	{ PROTO_STAT_RESP, 376, 4 },
	{ PROTO_REVOKE, 24, 5 },	       { PROTO_REVOKE, 24, UINT32_MAX },
	{ PROTO_ERROR, 16, 0 },		       { PROTO_ERROR, 16, UINT32_MAX /* -1 */ },
	{ PROTO_ERROR, 16, 4096 },	       { PROTO_ERROR, 16, 0x80000000u },
	{ PROTO_REVOKE, 12, 1 /* req_id */ },
	{ PROTO_GRANT, 64, 0 /* place */ },    { PROTO_GRANT, 64, 3 },
	{ PROTO_READ_SMALL_REQ, 32, 0 },       { PROTO_READ_SMALL_REQ, 32, PROTO_SMALL_MAX + 1 },
	{ PROTO_WRITE_SMALL_RESP, 36, 1 },     { PROTO_READ_SMALL_RESP, 36, 0x80000000u },
	{ PROTO_WRITE_SMALL_REQ, 32, 3 /* more data than came */ },
	{ PROTO_WRITE_SMALL_REQ, 32, UINT32_MAX },
};

static const struct field_case good_values[] = {
	{ PROTO_OPEN_REQ, 96, PROTO_ACCESS_READ },
	{ PROTO_OPEN_REQ, 96, PROTO_ACCESS_WRITE },
	{ PROTO_GRANT, 56, PROTO_PERSIST_PAGECACHE },
	{ PROTO_GRANT, 60, PROTO_FLUSH_COMMIT | PROTO_FLUSH_RDMA_FLUSH },
	{ PROTO_STAT_RESP, 352, PROTO_REG_PINNED },
	{ PROTO_STAT_RESP, 364, 0 },
	{ PROTO_STAT_RESP, 360, UINT32_MAX /* grants */ },
	{ PROTO_STAT_RESP, 376, PROTO_FLUSH_COMMIT },
	{ PROTO_REVOKE, 24, PROTO_REVOKE_SHUTDOWN },
	{ PROTO_ERROR, 16, 1 },
	{ PROTO_ERROR, 16, 4095 },
	{ PROTO_LIST_REQ, 16, UINT32_MAX },
	{ PROTO_LIST_RESP, 16, UINT32_MAX /* total */ },
	{ PROTO_GRANT, 64, PROTO_PLACE_EXACT },
	{ PROTO_READ_SMALL_REQ, 32, PROTO_SMALL_MAX },
	{ PROTO_WRITE_SMALL_RESP, 32, 1 },
};

static int decode_with(const struct field_case *c, struct proto_msg *d)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m;
	size_t n = encode_type(c->type, buf, &m);

	proto_test_put_le32(buf + c->off, c->value);
	return decode_guarded(buf, n, d);
}

static void proto_decode__value_out_of_range_is_ebadmsg(void **state)
{
	struct proto_msg d;

	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		assert_int_equal(decode_with(&bad_values[i], &d), -EBADMSG);
		/* The header stays for the reply; nothing of the body does. */
		assert_int_equal(d.hdr.type, bad_values[i].type);
		for (size_t b = 0; b < sizeof(d.u); b++)
			assert_int_equal(((unsigned char *)&d.u)[b], 0);
	}
}

/* A daemon before version 4 offered only the commit: its STAT_RESP says so. */
static void proto_decode__stat_resp_before_v4_is_commit_only(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (uint16_t v = 1; v <= 3; v++) {
		proto_test_fill(PROTO_STAT_RESP, &m);
		m.hdr.version = v;
		m.u.stat_resp.flush = 0; /* not on the wire before 4 */
		assert_int_equal(proto_encode(&m, buf, sizeof(buf)), 376);
		assert_int_equal(decode_guarded(buf, 376, &d), 0);
		assert_int_equal(d.hdr.version, v);
		assert_int_equal(d.u.stat_resp.flush, PROTO_FLUSH_COMMIT);
		assert_int_equal(d.u.stat_resp.commits, 99);
	}
	/* Version 4 carries it, and refuses one without the commit. */
	proto_test_fill(PROTO_STAT_RESP, &m);
	m.u.stat_resp.flush = 0;
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void proto_decode__value_at_the_edge_is_accepted(void **state)
{
	struct proto_msg d;

	for (size_t i = 0; i < sizeof(good_values) / sizeof(good_values[0]); i++)
		assert_int_equal(decode_with(&good_values[i], &d), 0);
}

static void proto_decode__random_bytes_never_crash(void **state)
{
	unsigned char buf[600];
	struct proto_msg d;
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
		int rc;

		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		/* A valid header half of the time, so bodies get exercised. */
		if (len >= PROTO_HDR_SIZE && (i & 1)) {
			memcpy(buf, "SLMR", 4);
			buf[4] = PROTO_VERSION;
			buf[5] = 0;
			buf[6] = (unsigned char)proto_test_types[i % PROTO_TEST_NTYPES];
			buf[7] = 0;
			proto_test_put_le32(buf + 8, (uint32_t)len);
		}
		rc = decode_guarded(buf, len, &d);
		assert_true(rc == 0 || rc == -EBADMSG || rc == -EPROTO || rc == -EPROTONOSUPPORT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_decode__every_type_round_trips),
		cmocka_unit_test(proto_decode__list_resp_of_every_count_round_trips),
		cmocka_unit_test(proto_decode__extreme_values_round_trip),
		cmocka_unit_test(proto_decode__every_truncation_is_ebadmsg),
		cmocka_unit_test(proto_decode__header_byte_corruption_is_refused),
		cmocka_unit_test(proto_decode__length_field_that_lies_is_ebadmsg),
		cmocka_unit_test(proto_decode__over_msg_max_is_ebadmsg),
		cmocka_unit_test(proto_decode__other_version_is_eprotonosupport),
		cmocka_unit_test(proto_decode__unknown_type_is_eproto),
		cmocka_unit_test(proto_decode__string_without_nul_is_ebadmsg),
		cmocka_unit_test(proto_decode__bytes_after_nul_are_ebadmsg),
		cmocka_unit_test(proto_decode__longest_and_empty_strings_are_accepted),
		cmocka_unit_test(proto_decode__list_count_over_max_is_ebadmsg),
		cmocka_unit_test(proto_decode__list_count_over_total_is_ebadmsg),
		cmocka_unit_test(proto_decode__list_count_against_length_is_ebadmsg),
		cmocka_unit_test(proto_decode__value_out_of_range_is_ebadmsg),
		cmocka_unit_test(proto_decode__value_at_the_edge_is_accepted),
		cmocka_unit_test(proto_decode__stat_resp_before_v4_is_commit_only),
		cmocka_unit_test(proto_decode__random_bytes_never_crash),
	};
	return cmocka_run_group_tests_name("proto_decode", tests, NULL, NULL);
}
