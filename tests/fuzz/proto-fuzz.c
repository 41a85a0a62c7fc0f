/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the wire codec: every input goes to proto_decode and
 * proto_conn_priv_decode. Whatever decodes must encode back to the very
 * bytes received (one message, one encoding) and decode again to the same
 * structure; whatever does not must fail with one of the documented errors.
 * A broken property aborts, which libFuzzer reports as a crash.
 *
 * Built and run by tests/fuzz/run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "proto-fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* Static: a proto_msg is over 4 KiB and libFuzzer calls us millions of times. */
static struct proto_msg fuzz_msg, fuzz_again;
static unsigned char fuzz_buf[PROTO_MSG_MAX];

static void fuzz_msg_refused(const uint8_t *data, size_t size, int rc)
{
	static const unsigned char zero[sizeof(fuzz_msg.u)];

	FUZZ_CHECK(rc == -EBADMSG || rc == -EPROTO || rc == -EPROTONOSUPPORT);
	/* Half a message is no message. */
	FUZZ_CHECK(!memcmp(&fuzz_msg.u, zero, sizeof(zero)));
	/* The header is there for the reply whenever it was received. */
	if (size >= PROTO_HDR_SIZE)
		FUZZ_CHECK(fuzz_msg.hdr.req_id == ((uint32_t)data[12] | (uint32_t)data[13] << 8 |
						   (uint32_t)data[14] << 16 |
						   (uint32_t)data[15] << 24));
	(void)proto_type_name(fuzz_msg.hdr.type);
}

static void fuzz_msg_accepted(const uint8_t *data, size_t size)
{
	ssize_t n;

	FUZZ_CHECK(size <= PROTO_MSG_MAX);
	FUZZ_CHECK(fuzz_msg.hdr.magic == PROTO_MAGIC && fuzz_msg.hdr.version >= PROTO_VERSION_MIN &&
		   fuzz_msg.hdr.version <= PROTO_VERSION);
	FUZZ_CHECK(fuzz_msg.hdr.length == size);
	FUZZ_CHECK(strcmp(proto_type_name(fuzz_msg.hdr.type), "unknown"));
	if (fuzz_msg.hdr.type == PROTO_REVOKE)
		(void)proto_revoke_reason_name(fuzz_msg.u.revoke.reason);

	n = proto_encode(&fuzz_msg, fuzz_buf, sizeof(fuzz_buf));
	FUZZ_CHECK(n == (ssize_t)size);
	FUZZ_CHECK(!memcmp(fuzz_buf, data, size));
	FUZZ_CHECK(proto_encode(&fuzz_msg, fuzz_buf, size - 1) == -ENOBUFS);

	FUZZ_CHECK(proto_decode(fuzz_buf, size, &fuzz_again) == 0);
	FUZZ_CHECK(!memcmp(&fuzz_msg, &fuzz_again, sizeof(fuzz_msg)));
}

static void fuzz_conn_priv(const uint8_t *data, size_t size)
{
	struct proto_conn_priv p;
	unsigned char buf[PROTO_CONN_PRIV_SIZE];

	if (proto_conn_priv_decode(data, size, &p))
		return;
	FUZZ_CHECK(size >= PROTO_CONN_PRIV_SIZE);
	proto_conn_priv_encode(&p, buf);
	FUZZ_CHECK(!memcmp(buf, data, PROTO_CONN_PRIV_SIZE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = proto_decode(data, size, &fuzz_msg);

	if (rc)
		fuzz_msg_refused(data, size, rc);
	else
		fuzz_msg_accepted(data, size);
	fuzz_conn_priv(data, size);
	return 0;
}
