/* SPDX-License-Identifier: MIT */
/* Unit tests of proto_type_name and proto_revoke_reason_name. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proto-test.h"

static void proto_type_name__names_every_type(void **state)
{
	static const char *const names[] = {
		"LIST_REQ",  "LIST_RESP",  "OPEN_REQ",	 "GRANT",	"CLOSE_REQ", "CLOSE_RESP",
		"COMMIT_REQ", "COMMIT_RESP", "STAT_REQ", "STAT_RESP", "REVOKE",	   "ERROR",
		"WRITE_SMALL_REQ", "WRITE_SMALL_RESP", "READ_SMALL_REQ", "READ_SMALL_RESP",
	};

	for (size_t i = 0; i < PROTO_TEST_NTYPES; i++)
		assert_string_equal(proto_type_name(proto_test_types[i]), names[i]);
}

static void proto_type_name__anything_else_is_unknown(void **state)
{
	/* Logged for whatever a peer sent: never NULL. */
	for (unsigned t = 0; t <= UINT16_MAX; t++)
		if (!proto_test_wire_len((uint16_t)t, 0))
			assert_string_equal(proto_type_name((uint16_t)t), "unknown");
}

static void proto_revoke_reason_name__names_every_reason(void **state)
{
	assert_string_equal(proto_revoke_reason_name(PROTO_REVOKE_ADMIN),
			    "revoked by the administrator");
	assert_string_equal(proto_revoke_reason_name(PROTO_REVOKE_EXPORT_REMOVED),
			    "export removed");
	assert_string_equal(proto_revoke_reason_name(PROTO_REVOKE_FILE_CHANGED),
			    "file changed under the seal");
	assert_string_equal(proto_revoke_reason_name(PROTO_REVOKE_SHUTDOWN),
			    "daemon shutting down");
}

static void proto_revoke_reason_name__anything_else_is_unknown(void **state)
{
	const uint32_t others[] = { 0, PROTO_REVOKE_SHUTDOWN + 1, 0x100, INT32_MAX, UINT32_MAX };

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		assert_string_equal(proto_revoke_reason_name(others[i]), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proto_type_name__names_every_type),
		cmocka_unit_test(proto_type_name__anything_else_is_unknown),
		cmocka_unit_test(proto_revoke_reason_name__names_every_reason),
		cmocka_unit_test(proto_revoke_reason_name__anything_else_is_unknown),
	};
	return cmocka_run_group_tests_name("proto_names", tests, NULL, NULL);
}
