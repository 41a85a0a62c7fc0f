/* SPDX-License-Identifier: MIT */
/*
 * rawclient: a sealmr client below libsealmr, for the tests that must do
 * what the library never would.
 *
 *   rawclient ADDR PORT hold EXPORT LEN   open a read/write grant, print
 *                                         "grant ADDR RKEY", hold it until
 *                                         stdin closes
 *   rawclient ADDR PORT read RADDR RKEY N  RDMA READ N bytes at RADDR/RKEY
 *                                         on this connection's QP, print
 *                                         "ok" or the completion status
 *   rawclient ADDR PORT write RADDR RKEY N the same with an RDMA WRITE of N
 *                                         bytes of 0xa5
 *   rawclient ADDR PORT garbage COUNT SEED send COUNT malformed messages,
 *                                         print how many ERROR replies came
 *                                         back before the daemon hung up
 *   rawclient ADDR PORT v1 EXPORT          a client of protocol version 1:
 *                                         open a 4 KiB grant, RDMA READ it,
 *                                         try a version 2 WRITE_SMALL_REQ;
 *                                         print "v1 grant LEN BYTES, read
 *                                         STATUS, small ERRNAME"
 *   rawclient ADDR PORT join OTHERADDR     open a session, then try to join
 *                                         it: with a forged token, an unknown
 *                                         session, from source address
 *                                         OTHERADDR, rightly,
 *                                         and after the session closed;
 *                                         print "CASE ERRNAME|ok" for each
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#include "proto.h"

#define RAW_RECVS 8

struct raw {
	struct rdma_cm_id *id;
	char *bufs; /* RAW_RECVS receive slots, then one send slot */
	struct ibv_mr *mr;
	uint32_t req_id;
};

static int raw_connect(struct raw *r, const char *addr, const char *port, uint16_t version)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 8, .max_recv_wr = RAW_RECVS,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .sq_sig_all = 1 };
	struct proto_conn_priv priv = { .version = version, .credits = RAW_RECVS,
					.max_msg = PROTO_MSG_MAX };
	uint8_t pd[PROTO_CONN_PRIV_SIZE];
	struct rdma_conn_param param = { .private_data = pd, .private_data_len = sizeof(pd),
					 .responder_resources = 4, .initiator_depth = 4,
					 .retry_count = 7, .rnr_retry_count = 7 };

	proto_conn_priv_encode(&priv, pd);
	if (rdma_getaddrinfo(addr, port, &hints, &res)) {
		perror("rawclient: rdma_getaddrinfo");
		return -1;
	}
	if (rdma_create_ep(&r->id, res, NULL, &qa)) {
		perror("rawclient: rdma_create_ep");
		r->id = NULL;
		rdma_freeaddrinfo(res);
		return -1;
	}
	rdma_freeaddrinfo(res);
	r->bufs = calloc(RAW_RECVS + 1, PROTO_MSG_MAX);
	r->mr = rdma_reg_msgs(r->id, r->bufs, (RAW_RECVS + 1) * PROTO_MSG_MAX);
	for (int i = 0; r->mr && i < RAW_RECVS; i++)
		rdma_post_recv(r->id, (void *)(uintptr_t)i, r->bufs + i * PROTO_MSG_MAX,
			       PROTO_MSG_MAX, r->mr);
	if (!r->mr || rdma_connect(r->id, &param)) {
		perror("rawclient: rdma_connect");
		return -1;
	}
	return 0;
}

static int raw_send_bytes(struct raw *r, const void *msg, size_t len)
{
	char *slot = r->bufs + RAW_RECVS * PROTO_MSG_MAX;
	struct ibv_wc wc;

	memcpy(slot, msg, len);
	if (rdma_post_send(r->id, NULL, slot, len, r->mr, 0) || rdma_get_send_comp(r->id, &wc) <= 0)
		return -1;
	return wc.status == IBV_WC_SUCCESS ? 0 : -1;
}

static uint32_t raw_last_len; /* bytes of the last message received */

/* The next message from the daemon; -1 when the connection is gone. */
static int raw_recv(struct raw *r, struct proto_msg *m)
{
	struct ibv_wc wc;
	int slot, rc;

	if (rdma_get_recv_comp(r->id, &wc) <= 0 || wc.status != IBV_WC_SUCCESS)
		return -1;
	raw_last_len = wc.byte_len;
	slot = (int)wc.wr_id;
	rc = proto_decode(r->bufs + slot * PROTO_MSG_MAX, wc.byte_len, m);
	rdma_post_recv(r->id, (void *)(uintptr_t)slot, r->bufs + slot * PROTO_MSG_MAX,
		       PROTO_MSG_MAX, r->mr);
	return rc;
}

static int cmd_hold(struct raw *r, const char *export, uint64_t len)
{
	struct proto_msg m = { .hdr = { .type = PROTO_OPEN_REQ, .req_id = ++r->req_id } };
	uint8_t buf[PROTO_MSG_MAX];
	ssize_t n;
	char line[16];

	snprintf(m.u.open_req.export, sizeof(m.u.open_req.export), "%s", export);
	m.u.open_req.length = len;
	m.u.open_req.access = PROTO_ACCESS_READ | PROTO_ACCESS_WRITE;
	n = proto_encode(&m, buf, sizeof(buf));
	if (n < 0 || raw_send_bytes(r, buf, (size_t)n) || raw_recv(r, &m))
		return 1;
	if (m.hdr.type != PROTO_GRANT) {
		printf("error %d %s\n", m.u.error.err, m.u.error.text);
		return 1;
	}
	printf("grant 0x%" PRIx64 " 0x%x\n", m.u.grant.addr, m.u.grant.rkey);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}

static int cmd_read(struct raw *r, uint64_t raddr, uint32_t rkey, size_t len, int write)
{
	char *dst = malloc(len);
	struct ibv_mr *mr = ibv_reg_mr(r->id->pd, dst, len, IBV_ACCESS_LOCAL_WRITE);
	struct ibv_wc wc;
	int rc;

	if (dst)
		memset(dst, 0xa5, len);
	rc = !mr ? -1 : write ? rdma_post_write(r->id, NULL, dst, len, mr, 0, raddr, rkey)
			      : rdma_post_read(r->id, NULL, dst, len, mr, 0, raddr, rkey);
	if (rc || rdma_get_send_comp(r->id, &wc) <= 0) {
		printf("post failed\n");
		rc = 1;
	} else {
		printf("%s\n", wc.status == IBV_WC_SUCCESS ? "ok" : ibv_wc_status_str(wc.status));
		rc = wc.status == IBV_WC_SUCCESS ? 0 : 3;
	}
	if (mr)
		ibv_dereg_mr(mr);
	free(dst);
	return rc;
}

static void raw_close(struct raw *r)
{
	if (r->mr)
		rdma_dereg_mr(r->mr);
	if (r->id)
		rdma_destroy_ep(r->id);
	free(r->bufs);
}

/* A data QP's connect request, from src when not NULL; 0 when accepted,
 * else the reject's status (a positive errno), -1 without a sealmr reject. */
static int raw_join(const char *addr, const char *port, const char *src, uint64_t session,
		    uint64_t token)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 1, .max_recv_wr = 1,
						.max_send_sge = 1, .max_recv_sge = 1 } };
	struct proto_conn_priv priv = { .version = PROTO_VERSION, .max_msg = PROTO_MSG_MAX };
	struct proto_session_priv sp = { .session = session, .token = token };
	uint8_t pd[PROTO_CONN_PRIV_V3_SIZE];
	struct rdma_conn_param param = { .private_data = pd, .private_data_len = sizeof(pd),
					 .responder_resources = 4, .initiator_depth = 4,
					 .retry_count = 7, .rnr_retry_count = 7 };
	struct rdma_cm_id *id;
	struct proto_conn_priv rej;
	int status = -1;

	proto_conn_priv_encode(&priv, pd);
	proto_session_priv_encode(&sp, pd);
	if (src) {
		if (inet_pton(AF_INET, src, &from.sin_addr) != 1)
			return -1;
		hints.ai_src_addr = (struct sockaddr *)&from;
		hints.ai_src_len = sizeof(from);
	}
	if (rdma_getaddrinfo(addr, port, &hints, &res)) {
		perror("rawclient: rdma_getaddrinfo");
		return -1;
	}
	if (rdma_create_ep(&id, res, NULL, &qa)) {
		perror("rawclient: rdma_create_ep");
		rdma_freeaddrinfo(res);
		return -1;
	}
	rdma_freeaddrinfo(res);
	if (rdma_connect(id, &param) == 0)
		status = 0;
	else if (id->event && id->event->event == RDMA_CM_EVENT_REJECTED &&
		 proto_conn_priv_decode(id->event->param.conn.private_data,
					id->event->param.conn.private_data_len, &rej) == 0)
		status = rej.status;
	rdma_destroy_ep(id);
	return status;
}

static void raw_join_print(const char *what, int status)
{
	printf("%s %s\n", what, status == 0 ? "ok" : status < 0 ? "no-reject" :
	       status == EPERM ? "EPERM" : status == ESTALE ? "ESTALE" :
	       status == EACCES ? "EACCES" : status == EXDEV ? "EXDEV" : strerror(status));
}

static int cmd_join(struct raw *r, const char *addr, const char *port, const char *other)
{
	struct proto_session_priv sp;
	int status = -1;

	if (!r->id->event || proto_session_priv_decode(r->id->event->param.conn.private_data,
						       r->id->event->param.conn.private_data_len,
						       &sp)) {
		printf("no session in the accept\n");
		return 1;
	}
	raw_join_print("forged", raw_join(addr, port, NULL, sp.session, sp.token ^ 1));
	raw_join_print("unknown", raw_join(addr, port, NULL, sp.session + 1000000, sp.token));
	raw_join_print("other-address", raw_join(addr, port, other, sp.session, sp.token));
	raw_join_print("good", raw_join(addr, port, NULL, sp.session, sp.token));
	raw_close(r);
	memset(r, 0, sizeof(*r));
	/* The daemon hears of the close as an event of its own: until then
	 * a join may still find the session. */
	for (int i = 0; i < 50 && status != ESTALE; i++) {
		status = raw_join(addr, port, NULL, sp.session, sp.token);
		if (status != ESTALE)
			usleep(100000);
	}
	raw_join_print("closed", status);
	return 0;
}

/* Version 1, as a client built from the version 1 spec speaks it. */
static int cmd_v1(struct raw *r, const char *export)
{
	struct proto_msg m = { .hdr = { .version = 1, .type = PROTO_OPEN_REQ,
					.req_id = ++r->req_id } };
	uint8_t buf[PROTO_MSG_MAX];
	uint32_t grant_len;
	ssize_t n;
	char *dst = malloc(4096);
	struct ibv_mr *mr = dst ? ibv_reg_mr(r->id->pd, dst, 4096, IBV_ACCESS_LOCAL_WRITE) : NULL;
	struct ibv_wc wc;
	const char *read_status = "post failed";

	snprintf(m.u.open_req.export, sizeof(m.u.open_req.export), "%s", export);
	m.u.open_req.length = 4096;
	m.u.open_req.access = PROTO_ACCESS_READ;
	n = proto_encode(&m, buf, sizeof(buf));
	if (!mr || n < 0 || raw_send_bytes(r, buf, (size_t)n) || raw_recv(r, &m))
		return 1;
	if (m.hdr.type != PROTO_GRANT || m.hdr.version != 1) {
		printf("v1: got %s of version %u\n", proto_type_name(m.hdr.type), m.hdr.version);
		return 1;
	}
	grant_len = raw_last_len;
	if (rdma_post_read(r->id, NULL, dst, 4096, mr, 0, m.u.grant.addr, m.u.grant.rkey) == 0 &&
	    rdma_get_send_comp(r->id, &wc) > 0)
		read_status = wc.status == IBV_WC_SUCCESS ? "ok" : ibv_wc_status_str(wc.status);
	/* A version 2 type in a version 1 header: the codec refuses to make
	 * it, so the bytes are spelled out (PROTOCOL.md's table). */
	memset(buf, 0, 48);
	memcpy(buf, "SLMR\1\0\6\0\60\0\0\0\7\0\0\0", 16);
	buf[32] = 8; /* length 8, then 8 bytes of data */
	if (raw_send_bytes(r, buf, 48) || raw_recv(r, &m))
		return 1;
	printf("v1 grant %u bytes, read %s, small %s\n", grant_len, read_status,
	       m.hdr.type == PROTO_ERROR ? strerrorname_np(m.u.error.err) : proto_type_name(m.hdr.type));
	ibv_dereg_mr(mr);
	free(dst);
	return 0;
}

static volatile int garbage_errors;

/* A dropped connection shows no completion until our side disconnects too:
 * silence for a while means the daemon hung up. */
static void garbage_timeout(int sig)
{
	char line[16];
	int n = snprintf(line, sizeof(line), "%d\n", garbage_errors);

	(void)sig;
	if (write(1, line, (size_t)n) < 0)
		_exit(1);
	_exit(0);
}

static int cmd_garbage(struct raw *r, int count, unsigned seed)
{
	uint8_t buf[PROTO_MSG_MAX];
	struct proto_msg m;
	int errors = 0;

	signal(SIGALRM, garbage_timeout);
	for (int i = 0; i < count; i++) {
		size_t len = (size_t)(rand_r(&seed) % 200) + 1;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		if (len >= PROTO_HDR_SIZE && (i & 1)) { /* a header that parses */
			memcpy(buf, "SLMR\1\0", 6);
			buf[8] = (uint8_t)len;
			buf[9] = buf[10] = buf[11] = 0;
		}
		alarm(5);
		if (raw_send_bytes(r, buf, len))
			break;
		if (raw_recv(r, &m) != 0 && m.hdr.type != PROTO_ERROR)
			break;
		garbage_errors = ++errors;
	}
	printf("%d\n", errors);
	return 0;
}

/* No rdma_disconnect: a synchronous one waits for the daemon's answer;
 * destroying the endpoint is enough, and leaves nothing for LeakSanitizer. */
int main(int argc, char **argv)
{
	struct raw r = { 0 };
	int rc = 2;

	/* Each answer out at once: a sanitizer's exit would drop a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4 || raw_connect(&r, argv[1], argv[2], !strcmp(argv[3], "v1") ? 1 : PROTO_VERSION)) {
		fprintf(stderr, "usage: rawclient ADDR PORT hold EXPORT LEN | read RADDR RKEY N | "
				"write RADDR RKEY N | garbage COUNT SEED | v1 EXPORT | join OTHERADDR\n");
		raw_close(&r);
		return 2;
	}
	if (!strcmp(argv[3], "hold") && argc == 6)
		rc = cmd_hold(&r, argv[4], strtoull(argv[5], NULL, 0));
	else if ((!strcmp(argv[3], "read") || !strcmp(argv[3], "write")) && argc == 7)
		rc = cmd_read(&r, strtoull(argv[4], NULL, 0), (uint32_t)strtoul(argv[5], NULL, 0),
			      strtoul(argv[6], NULL, 0), argv[3][0] == 'w');
	else if (!strcmp(argv[3], "v1") && argc == 5)
		rc = cmd_v1(&r, argv[4]);
	else if (!strcmp(argv[3], "join") && argc == 5)
		rc = cmd_join(&r, argv[1], argv[2], argv[4]);
	else if (!strcmp(argv[3], "garbage") && argc == 6)
		rc = cmd_garbage(&r, atoi(argv[4]), (unsigned)atoi(argv[5]));
	raw_close(&r);
	return rc;
}
