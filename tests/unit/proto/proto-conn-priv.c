/* SPDX-License-Identifier: MIT */
/* Unit tests of the connect private data codec: encode and decode. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto-test.h"

static void proto_conn_priv_encode__layout_is_little_endian(void **state)
{
	const struct proto_conn_priv p = {
		.version = 0x0201, .credits = 0x0403, .status = -2, .max_msg = 0x08070605
	};
	struct proto_test_guard g;
	unsigned char *buf = proto_test_guard_new(&g, PROTO_CONN_PRIV_SIZE);

	/* Exactly 16 bytes: the guard page catches a 17th. */
	assert_non_null(buf);
	proto_conn_priv_encode(&p, buf);
	assert_memory_equal(buf, "SLMR\x01\x02\x03\x04\xfe\xff\xff\xff\x05\x06\x07\x08", 16);
	proto_test_guard_delete(&g);
}

static void proto_conn_priv_decode__round_trips(void **state)
{
	const struct proto_conn_priv cases[] = {
		{ .version = PROTO_VERSION, .credits = 16, .status = 0, .max_msg = PROTO_MSG_MAX },
		{ .version = 1, .credits = 16, .status = 13, .max_msg = 4096 },
		{ .version = UINT16_MAX, .credits = UINT16_MAX, .status = INT32_MIN,
		  .max_msg = UINT32_MAX },
		{ .status = INT32_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char buf[PROTO_CONN_PRIV_SIZE];
		struct proto_conn_priv d;

		proto_conn_priv_encode(&cases[i], buf);
		assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), 0);
		assert_int_equal(d.version, cases[i].version);
		assert_int_equal(d.credits, cases[i].credits);
		assert_int_equal(d.status, cases[i].status);
		assert_int_equal(d.max_msg, cases[i].max_msg);
	}
}

static void proto_conn_priv_decode__short_or_null_is_ebadmsg(void **state)
{
	const struct proto_conn_priv p = { .version = PROTO_VERSION };
	unsigned char buf[PROTO_CONN_PRIV_SIZE];
	struct proto_conn_priv d;

	proto_conn_priv_encode(&p, buf);
	for (size_t len = 0; len < sizeof(buf); len++) {
		struct proto_test_guard g;
		unsigned char *cut = proto_test_guarded(&g, buf, len);

		assert_non_null(cut);
		assert_int_equal(proto_conn_priv_decode(cut, len, &d), -EBADMSG);
		proto_test_guard_delete(&g);
	}
	/* rdma_cm hands over NULL when the peer sent nothing. */
	assert_int_equal(proto_conn_priv_decode(NULL, 0, &d), -EBADMSG);
	assert_int_equal(proto_conn_priv_decode(NULL, 56, &d), -EBADMSG);
}

static void proto_conn_priv_decode__bad_magic_is_ebadmsg(void **state)
{
	const struct proto_conn_priv p = { .version = PROTO_VERSION };
	unsigned char buf[PROTO_CONN_PRIV_SIZE];
	struct proto_conn_priv d;

	for (int bit = 0; bit < 32; bit++) {
		proto_conn_priv_encode(&p, buf);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), -EBADMSG);
	}
}

static void proto_conn_priv_decode__error_leaves_out_untouched(void **state)
{
	unsigned char buf[PROTO_CONN_PRIV_SIZE] = "XLMR";
	struct proto_conn_priv d, before;

	memset(&d, 0x5a, sizeof(d));
	before = d;
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), -EBADMSG);
	assert_memory_equal(&d, &before, sizeof(d));
}

static void proto_conn_priv_decode__other_version_is_returned(void **state)
{
	const struct proto_conn_priv p = { .version = PROTO_VERSION + 6, .status = EPROTONOSUPPORT };
	unsigned char buf[PROTO_CONN_PRIV_SIZE];
	struct proto_conn_priv d;

	/* The caller, not the codec, decides: it must say what the peer speaks. */
	proto_conn_priv_encode(&p, buf);
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.version, PROTO_VERSION + 6);
	assert_int_equal(d.status, EPROTONOSUPPORT);
}

static void proto_conn_priv_decode__longer_buffer_is_accepted(void **state)
{
	const struct proto_conn_priv p = { .version = PROTO_VERSION, .credits = 8 };
	unsigned char buf[56];
	struct proto_conn_priv d;

	/* rdma_cm may pad private data to its maximum. */
	memset(buf, 0xee, sizeof(buf));
	proto_conn_priv_encode(&p, buf);
	assert_int_equal(buf[PROTO_CONN_PRIV_SIZE], 0xee);
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.credits, 8);
}

static void proto_session_priv_encode__layout_is_little_endian(void **state)
{
	const struct proto_session_priv sp = {
		.session = 0x0807060504030201ull, .token = 0x1817161514131211ull, .qps = 0x2221
	};
	struct proto_test_guard g;
	unsigned char *buf = proto_test_guard_new(&g, PROTO_CONN_PRIV_V3_SIZE);

	/* Bytes 16 to 39 of the private data; the 16 before are left alone. */
	assert_non_null(buf);
	memset(buf, 0xee, PROTO_CONN_PRIV_V3_SIZE);
	proto_session_priv_encode(&sp, buf);
	assert_int_equal(buf[15], 0xee);
	assert_memory_equal(buf + 16, "\x01\x02\x03\x04\x05\x06\x07\x08"
				      "\x11\x12\x13\x14\x15\x16\x17\x18"
				      "\x21\x22\0\0\0\0\0\0", 24);
	proto_test_guard_delete(&g);
}

static void proto_session_priv_decode__round_trips_and_short_is_ebadmsg(void **state)
{
	const struct proto_session_priv sp = { .session = 7, .token = UINT64_MAX, .qps = 16 };
	unsigned char buf[56] = { 0 };
	struct proto_session_priv d;

	proto_session_priv_encode(&sp, buf);
	assert_int_equal(proto_session_priv_decode(buf, sizeof(buf), &d), 0);
	assert_true(d.session == 7 && d.token == UINT64_MAX && d.qps == 16);
	/* A version 2 peer's 16 bytes have no session: the caller says so. */
	for (size_t len = 0; len < PROTO_CONN_PRIV_V3_SIZE; len++) {
		struct proto_test_guard g;
		unsigned char *cut = proto_test_guarded(&g, buf, len ? len : 1);

		assert_non_null(cut);
		assert_int_equal(proto_session_priv_decode(cut, len, &d), -EBADMSG);
		proto_test_guard_delete(&g);
	}
	assert_int_equal(proto_session_priv_decode(NULL, 56, &d), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_conn_priv_encode__layout_is_little_endian),
		cmocka_unit_test(proto_conn_priv_decode__round_trips),
		cmocka_unit_test(proto_conn_priv_decode__short_or_null_is_ebadmsg),
		cmocka_unit_test(proto_conn_priv_decode__bad_magic_is_ebadmsg),
		cmocka_unit_test(proto_conn_priv_decode__error_leaves_out_untouched),
		cmocka_unit_test(proto_conn_priv_decode__other_version_is_returned),
		cmocka_unit_test(proto_conn_priv_decode__longer_buffer_is_accepted),
		cmocka_unit_test(proto_session_priv_encode__layout_is_little_endian),
		cmocka_unit_test(proto_session_priv_decode__round_trips_and_short_is_ebadmsg),
	};
	return cmocka_run_group_tests_name("proto_conn_priv", tests, NULL, NULL);
}
