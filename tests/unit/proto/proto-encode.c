/* SPDX-License-Identifier: MIT */
/* Unit tests of proto_encode. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto-test.h"

static void proto_encode__header_is_little_endian(void **state)
{
	struct proto_msg m;
	unsigned char buf[PROTO_MSG_MAX];
	ssize_t n;

	proto_test_fill(PROTO_CLOSE_REQ, &m);
	n = proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_SIZE + 8);
	assert_memory_equal(buf, "SLMR", 4);
	assert_int_equal(buf[4], PROTO_VERSION);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[6], PROTO_CLOSE_REQ);
	assert_int_equal(buf[8], PROTO_HDR_SIZE + 8);
	assert_int_equal(buf[12], 0x07); /* req_id 0x01020307, low byte first */
	assert_int_equal(buf[15], 0x01);
	assert_int_equal(buf[16], 0x01); /* grant_id ...0001 */
	assert_int_equal(buf[23], 0x80);
}

static void proto_encode__every_type_fits_a_receive_buffer(void **state)
{
	unsigned char buf[PROTO_MSG_MAX];

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		struct proto_msg m;

		proto_test_fill(proto_test_types[i], &m);
		if (m.hdr.type == PROTO_LIST_RESP)
			m.u.list_resp.count = PROTO_LIST_MAX;
		assert_true(proto_encode(&m, buf, sizeof(buf)) > PROTO_HDR_SIZE);
	}
}

static void proto_encode__small_buffer_is_enobufs(void **state)
{
	struct proto_msg m;
	unsigned char buf[PROTO_MSG_MAX];

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++) {
		ssize_t n;

		proto_test_fill(proto_test_types[i], &m);
		n = proto_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		for (size_t size = 0; size < (size_t)n; size += 7)
			assert_int_equal(proto_encode(&m, buf, size), -ENOBUFS);
	}
}

static void proto_encode__unknown_type_is_einval(void **state)
{
	struct proto_msg m = { .hdr = { .type = 0x3f } };
	unsigned char buf[64];

	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void proto_encode__string_without_room_for_nul_is_einval(void **state)
{
	struct proto_msg m;
	unsigned char buf[PROTO_MSG_MAX];

	proto_test_fill(PROTO_OPEN_REQ, &m);
	memset(m.u.open_req.export, 'a', sizeof(m.u.open_req.export));
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void proto_encode__list_count_over_max_is_einval(void **state)
{
	struct proto_msg m;
	unsigned char buf[PROTO_MSG_MAX];

	proto_test_fill(PROTO_LIST_RESP, &m);
	m.u.list_resp.count = PROTO_LIST_MAX + 1;
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_encode__header_is_little_endian),
		cmocka_unit_test(proto_encode__every_type_fits_a_receive_buffer),
		cmocka_unit_test(proto_encode__small_buffer_is_enobufs),
		cmocka_unit_test(proto_encode__unknown_type_is_einval),
		cmocka_unit_test(proto_encode__string_without_room_for_nul_is_einval),
		cmocka_unit_test(proto_encode__list_count_over_max_is_einval),
	};
	return cmocka_run_group_tests_name("proto_encode", tests, NULL, NULL);
}
