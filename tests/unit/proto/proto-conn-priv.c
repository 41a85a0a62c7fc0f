/* SPDX-License-Identifier: MIT */
/* Unit tests of the connect private data codec. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto.h"

static void proto_conn_priv_decode__round_trips(void **state)
{
	struct proto_conn_priv p = { .version = 1, .credits = 16, .status = 13, .max_msg = 4096 }, d;
	unsigned char buf[PROTO_CONN_PRIV_SIZE];

	proto_conn_priv_encode(&p, buf);
	assert_memory_equal(buf, "SLMR", 4);
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.version, 1);
	assert_int_equal(d.credits, 16);
	assert_int_equal(d.status, 13);
	assert_int_equal(d.max_msg, 4096);
}

static void proto_conn_priv_decode__short_or_null_is_ebadmsg(void **state)
{
	struct proto_conn_priv p = { .version = 1 }, d;
	unsigned char buf[PROTO_CONN_PRIV_SIZE];

	proto_conn_priv_encode(&p, buf);
	for (size_t len = 0; len < sizeof(buf); len++)
		assert_int_equal(proto_conn_priv_decode(buf, len, &d), -EBADMSG);
	assert_int_equal(proto_conn_priv_decode(NULL, 56, &d), -EBADMSG);
}

static void proto_conn_priv_decode__bad_magic_is_ebadmsg(void **state)
{
	struct proto_conn_priv p = { .version = 1 }, d;
	unsigned char buf[PROTO_CONN_PRIV_SIZE];

	proto_conn_priv_encode(&p, buf);
	buf[0] ^= 1;
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), -EBADMSG);
}

static void proto_conn_priv_decode__other_version_is_returned(void **state)
{
	struct proto_conn_priv p = { .version = 7 }, d;
	unsigned char buf[56] = { 0 };

	/* rdma_cm pads private data to its maximum: longer is fine. */
	proto_conn_priv_encode(&p, buf);
	assert_int_equal(proto_conn_priv_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.version, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_conn_priv_decode__round_trips),
		cmocka_unit_test(proto_conn_priv_decode__short_or_null_is_ebadmsg),
		cmocka_unit_test(proto_conn_priv_decode__bad_magic_is_ebadmsg),
		cmocka_unit_test(proto_conn_priv_decode__other_version_is_returned),
	};
	return cmocka_run_group_tests_name("proto_conn_priv", tests, NULL, NULL);
}
