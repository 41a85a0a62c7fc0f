/* SPDX-License-Identifier: MIT */
/*
 * admin-req: the admin socket's requests (server/ADMIN.md), apart from the
 * socket: one request line in, one reply object out.
 */
#ifndef SEALMR_ADMIN_REQ_H
#define SEALMR_ADMIN_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define ADMIN_LINE_MAX 4096 /* requests are a few dozen bytes */

struct server;

struct admin_req_ctx {
	struct server *srv;
	uint64_t started_ns; /* util_now_ns() at the start, for the uptime */
	const char *who;     /* the admin client, for the log */
};

/*
 * Runs one request line (without its newline). Returns the reply,
 * {"ok": true, ...} or {"ok": false, "error": CAUSE}, for the caller to
 * put; NULL only when out of memory.
 */
json_object *admin_req_run(const struct admin_req_ctx *ctx, const char *line, size_t len);
/* {"ok": false, "error": text} */
json_object *admin_req_error(const char *text);
/* CLOCK_MONOTONIC in nanoseconds: ages and uptime count from it. */

#endif
