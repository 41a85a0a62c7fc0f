/* SPDX-License-Identifier: MIT */
/* Unit tests of proto_decode: everything a hostile peer could send. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "proto-test.h"

static ssize_t encode_type(uint16_t type, unsigned char *buf, struct proto_msg *m)
{
	ssize_t n;

	proto_test_fill(type, m);
	n = proto_encode(m, buf, PROTO_MSG_MAX);
	assert_true(n >= PROTO_HDR_SIZE);
	return n;
}

static void proto_decode__every_type_round_trips(void **state)
{
	unsigned char buf[PROTO_MSG_MAX], again[PROTO_MSG_MAX];

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		struct proto_msg m, d;
		ssize_t n = encode_type(proto_test_types[i], buf, &m);

		assert_int_equal(proto_decode(buf, (size_t)n, &d), 0);
		assert_int_equal(d.hdr.type, m.hdr.type);
		assert_int_equal(d.hdr.req_id, m.hdr.req_id);
		assert_int_equal(d.hdr.length, n);
		/* Field by field is what the bytes say: encode again, compare. */
		assert_int_equal(proto_encode(&d, again, sizeof(again)), n);
		assert_memory_equal(buf, again, (size_t)n);
		assert_memory_equal(&d.u, &m.u, sizeof(m.u));
	}
}

static void proto_decode__every_truncation_is_rejected(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		struct proto_msg m, d;
		ssize_t n = encode_type(proto_test_types[i], buf, &m);

		for (ssize_t len = 0; len < n; len++) {
			/* A copy of exactly len bytes: ASan sees any read past it. */
			unsigned char *cut = malloc(len ? (size_t)len : 1);

			memcpy(cut, buf, (size_t)len);
			assert_int_not_equal(proto_decode(cut, (size_t)len, &d), 0);
			/* Even with the length field telling the truth. */
			if (len >= PROTO_HDR_SIZE) {
				cut[8] = (unsigned char)len;
				cut[9] = (unsigned char)(len >> 8);
				assert_int_not_equal(proto_decode(cut, (size_t)len, &d), 0);
			}
			free(cut);
		}
	}
}

static void proto_decode__length_field_that_lies_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_GRANT, buf, &m);

	buf[8] = (unsigned char)(n + 1);
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[8] = (unsigned char)(n - 1);
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[8] = (unsigned char)n;
	buf[11] = 0x80;
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
}

static void proto_decode__extra_bytes_are_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX] = { 0 };
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_CLOSE_REQ, buf, &m);

	buf[8] = (unsigned char)(n + 4);
	assert_int_equal(proto_decode(buf, (size_t)n + 4, &d), -EBADMSG);
}

static void proto_decode__bad_magic_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;

	for (int byte = 0; byte < 4; byte++) {
		ssize_t n = encode_type(PROTO_LIST_REQ, buf, &m);

		buf[byte] ^= 0x20;
		assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	}
}

static void proto_decode__other_version_is_eprotonosupport(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_LIST_REQ, buf, &m);

	buf[4] = PROTO_VERSION + 1;
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EPROTONOSUPPORT);
	assert_int_equal(d.hdr.req_id, m.hdr.req_id);
}

static void proto_decode__unknown_type_is_eproto(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_LIST_REQ, buf, &m);

	for (unsigned t = 0; t < 0x10000; t += 0x11) {
		int known = 0;

		for (size_t i = 0; i < PROTO_TEST_NTYPES; i++)
			known |= proto_test_types[i] == t;
		if (known)
			continue;
		buf[6] = (unsigned char)t;
		buf[7] = (unsigned char)(t >> 8);
		assert_int_equal(proto_decode(buf, (size_t)n, &d), -EPROTO);
	}
}

static void proto_decode__string_without_nul_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_OPEN_REQ, buf, &m);

	memset(buf + PROTO_HDR_SIZE, 'x', PROTO_NAME_MAX);
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	n = encode_type(PROTO_ERROR, buf, &m);
	memset(buf + PROTO_HDR_SIZE + 4, 'y', PROTO_TEXT_MAX);
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
}

static void proto_decode__list_count_over_max_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n = encode_type(PROTO_LIST_RESP, buf, &m);

	buf[PROTO_HDR_SIZE + 4] = PROTO_LIST_MAX + 1;
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[PROTO_HDR_SIZE + 4] = 0xff;
	buf[PROTO_HDR_SIZE + 7] = 0xff;
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
}

static void proto_decode__enum_out_of_range_is_ebadmsg(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg m, d;
	ssize_t n;

	proto_test_fill(PROTO_OPEN_REQ, &m);
	m.u.open_req.access = 0;
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
	m.u.open_req.access = 4;
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);

	proto_test_fill(PROTO_REVOKE, &m);
	m.u.revoke.reason = 99;
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);

	proto_test_fill(PROTO_ERROR, &m);
	m.u.error.err = -5;
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);

	proto_test_fill(PROTO_GRANT, &m);
	m.u.grant.persist = 0;
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(proto_decode(buf, (size_t)n, &d), -EBADMSG);
}

static void proto_decode__random_bytes_never_crash(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];
	struct proto_msg d;
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand_r(&seed) % 600);

		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		/* A valid header half of the time, so bodies get exercised. */
		if (len >= PROTO_HDR_SIZE && (i & 1)) {
			memcpy(buf, "SLMR", 4);
			buf[4] = PROTO_VERSION;
			buf[5] = 0;
			buf[6] = (unsigned char)proto_test_types[i % PROTO_TEST_NTYPES];
			buf[7] = 0;
			buf[8] = (unsigned char)len;
			buf[9] = (unsigned char)(len >> 8);
			buf[10] = buf[11] = 0;
		}
		(void)proto_decode(buf, len, &d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_decode__every_type_round_trips),
		cmocka_unit_test(proto_decode__every_truncation_is_rejected),
		cmocka_unit_test(proto_decode__length_field_that_lies_is_ebadmsg),
		cmocka_unit_test(proto_decode__extra_bytes_are_ebadmsg),
		cmocka_unit_test(proto_decode__bad_magic_is_ebadmsg),
		cmocka_unit_test(proto_decode__other_version_is_eprotonosupport),
		cmocka_unit_test(proto_decode__unknown_type_is_eproto),
		cmocka_unit_test(proto_decode__string_without_nul_is_ebadmsg),
		cmocka_unit_test(proto_decode__list_count_over_max_is_ebadmsg),
		cmocka_unit_test(proto_decode__enum_out_of_range_is_ebadmsg),
		cmocka_unit_test(proto_decode__random_bytes_never_crash),
	};
	return cmocka_run_group_tests_name("proto_decode", tests, NULL, NULL);
}
