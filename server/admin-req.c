/* SPDX-License-Identifier: MIT */
/*
 * admin-req: what the admin socket's requests do (server/ADMIN.md). They
 * read the server's own lists and revoke through conn_revoke, the path
 * every revoke takes, so the rkey is dead before the reply is queued.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "admin-req.h"
#include "util.h"
#include "log.h"
#include "proto.h"
#include "server.h"

#define ADMIN_REQ_ERR_MAX 512
#define ADMIN_REQ_REVOKE_TEXT "revoked by the administrator"

typedef json_object *(*admin_req_fn)(const struct admin_req_ctx *ctx, json_object *req,
				     char *err, size_t errlen);

static uint64_t admin_req_age_s(uint64_t since_ns)
{
	uint64_t now = util_now_ns();

	return now > since_ns ? (now - since_ns) / 1000000000u : 0;
}

/* A string a client sent, made safe to echo into a message. */
static const char *admin_req_esc(const char *in, char *out, size_t outlen)
{
	return log_escape(in, strnlen(in, 256), out, outlen);
}

static void admin_req_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* NULL becomes JSON null. */
static void admin_req_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static void admin_req_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static json_object *admin_req_ok(const char *key, json_object *payload)
{
	json_object *r = json_object_new_object();

	if (!r) {
		json_object_put(payload);
		return NULL;
	}
	admin_req_bool(r, "ok", 1);
	if (key)
		json_object_object_add(r, key, payload);
	return r;
}

json_object *admin_req_error(const char *text)
{
	json_object *r = json_object_new_object();

	if (!r)
		return NULL;
	admin_req_bool(r, "ok", 0);
	admin_req_str(r, "error", text);
	return r;
}

static const char *admin_req_access(bool writable)
{
	return writable ? "rw" : "ro";
}

static json_object *admin_req_export_clients(const struct server_export_view *e)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; arr && i < e->nclients; i++) {
		char net[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4];

		inet_ntop(AF_INET, &e->clients[i].net, net, sizeof(net));
		snprintf(cidr, sizeof(cidr), "%s/%d", net, __builtin_popcount(e->clients[i].mask));
		json_object_array_add(arr, json_object_new_string(cidr));
	}
	return arr;
}

/* The array a listing fills, and whether it ran out of memory. */
struct admin_req_list {
	json_object *arr;
	bool nomem;
};

/* A new object in the list's array; NULL (and nomem) when out of memory. */
static json_object *admin_req_item(struct admin_req_list *l)
{
	json_object *o = l->nomem ? NULL : json_object_new_object();

	if (!o || json_object_array_add(l->arr, o)) {
		json_object_put(o);
		l->nomem = true;
		return NULL;
	}
	return o;
}

/* The listing's reply, or NULL when it ran out of memory. */
static json_object *admin_req_list_done(struct admin_req_list *l, const char *key)
{
	if (l->nomem) {
		json_object_put(l->arr);
		return NULL;
	}
	return admin_req_ok(key, l->arr);
}

static void admin_req_export_item(const struct server_export_view *v, void *arg)
{
	json_object *o = admin_req_item(arg);

	if (!o)
		return;
	admin_req_str(o, "name", v->name);
	admin_req_str(o, "path", v->path);
	admin_req_u64(o, "offset", v->offset);
	admin_req_u64(o, "size", v->size);
	admin_req_str(o, "access", admin_req_access(v->writable));
	admin_req_str(o, "mode", v->dax ? "dax" : "pagecache");
	admin_req_str(o, "reg", v->reg);
	admin_req_bool(o, "sealed", v->sealed);
	admin_req_u64(o, "grants", v->grants);
	admin_req_u64(o, "commits", v->commits);
	json_object_object_add(o, "clients", admin_req_export_clients(v));
	admin_req_bool(o, "removed", v->removed);
}

static json_object *admin_req_exports(const struct admin_req_ctx *ctx, json_object *req,
				      char *err, size_t errlen)
{
	struct admin_req_list l = { json_object_new_array(), false };

	if (!l.arr)
		return NULL;
	server_each_export(ctx->srv, admin_req_export_item, &l);
	return admin_req_list_done(&l, "exports");
}

static int admin_req_by_id(const void *a, const void *b)
{
	json_object *const *ja = a, *const *jb = b;
	uint64_t x = json_object_get_uint64(json_object_object_get(*ja, "id"));
	uint64_t y = json_object_get_uint64(json_object_object_get(*jb, "id"));

	return x < y ? -1 : x > y;
}

static void admin_req_grant_item(const struct server_grant_view *v, void *arg)
{
	json_object *o = admin_req_item(arg);

	if (!o)
		return;
	admin_req_u64(o, "id", v->id);
	admin_req_str(o, "client", v->client);
	admin_req_u64(o, "serial", v->client_serial);
	admin_req_str(o, "export", v->export);
	admin_req_u64(o, "offset", v->offset);
	admin_req_u64(o, "length", v->length);
	admin_req_str(o, "access", admin_req_access(v->writable));
	admin_req_u64(o, "age", admin_req_age_s(v->created_ns));
}

static json_object *admin_req_grants(const struct admin_req_ctx *ctx, json_object *req,
				     char *err, size_t errlen)
{
	struct admin_req_list l = { json_object_new_array(), false };

	if (!l.arr)
		return NULL;
	server_each_grant(ctx->srv, admin_req_grant_item, &l);
	json_object_array_sort(l.arr, admin_req_by_id);
	return admin_req_list_done(&l, "grants");
}

static void admin_req_client_item(const struct server_client_view *v, void *arg)
{
	json_object *o = admin_req_item(arg);

	if (!o)
		return;
	admin_req_str(o, "address", v->address);
	admin_req_u64(o, "serial", v->serial);
	admin_req_str(o, "state", v->state);
	admin_req_u64(o, "grants", v->grants);
	admin_req_u64(o, "qps", v->qps);
	/* Not connected yet (accept sent, no ESTABLISHED): no age. */
	if (v->connected_ns)
		admin_req_u64(o, "age", admin_req_age_s(v->connected_ns));
	else
		admin_req_str(o, "age", NULL);
}

static json_object *admin_req_clients(const struct admin_req_ctx *ctx, json_object *req,
				      char *err, size_t errlen)
{
	struct admin_req_list l = { json_object_new_array(), false };

	if (!l.arr)
		return NULL;
	server_each_client(ctx->srv, admin_req_client_item, &l);
	return admin_req_list_done(&l, "clients");
}

static json_object *admin_req_stats(const struct admin_req_ctx *ctx, json_object *req,
				    char *err, size_t errlen)
{
	const struct server_stats *st = server_get_stats(ctx->srv);
	json_object *o = json_object_new_object();
	struct server_totals now;

	if (!o)
		return NULL;
	server_get_totals(ctx->srv, &now);
	admin_req_u64(o, "uptime", admin_req_age_s(ctx->started_ns));
	admin_req_u64(o, "connections", st->connections);
	admin_req_u64(o, "rejected", st->rejected);
	admin_req_u64(o, "grants", st->grants);
	admin_req_u64(o, "revokes", st->revokes);
	admin_req_u64(o, "errors", st->errors);
	admin_req_u64(o, "bad_messages", st->bad_messages);
	admin_req_u64(o, "commits", st->commits);
	admin_req_u64(o, "seals", st->seals);
	admin_req_u64(o, "small_writes", st->small_writes);
	admin_req_u64(o, "small_reads", st->small_reads);
	admin_req_u64(o, "open_ns_checks", st->open_ns_checks);
	admin_req_u64(o, "open_ns_register", st->open_ns_register);
	admin_req_u64(o, "open_ns_reply", st->open_ns_reply);
	admin_req_u64(o, "closes", st->closes);
	admin_req_u64(o, "close_ns_deregister", st->close_ns_deregister);
	admin_req_u64(o, "current_connections", now.connections);
	admin_req_u64(o, "current_grants", now.grants);
	admin_req_u64(o, "current_seals", now.seals);
	admin_req_u64(o, "exports", now.exports);
	return admin_req_ok("stats", o);
}

static int admin_req_revoke_grant(const struct admin_req_ctx *ctx, json_object *v, char *err,
				  size_t errlen)
{
	uint64_t id;
	int n;

	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1) {
		snprintf(err, errlen, "\"grant\" wants a grant id, a positive integer");
		return -EINVAL;
	}
	id = json_object_get_uint64(v);
	n = server_revoke_grant_id(ctx->srv, id, PROTO_REVOKE_ADMIN, ADMIN_REQ_REVOKE_TEXT);
	if (n < 0)
		snprintf(err, errlen, "no grant %llu", (unsigned long long)id);
	return n;
}

static int admin_req_revoke_client(const struct admin_req_ctx *ctx, json_object *v, char *err,
				   size_t errlen)
{
	const char *addr = json_object_get_string(v);
	char esc[256];
	int n;

	if (!json_object_is_type(v, json_type_string) || !*addr) {
		snprintf(err, errlen, "\"client\" wants an address, IP or IP:PORT");
		return -EINVAL;
	}
	n = server_revoke_client(ctx->srv, addr, PROTO_REVOKE_ADMIN, ADMIN_REQ_REVOKE_TEXT);
	if (n < 0)
		snprintf(err, errlen, "no client %s (sealmrctl clients lists them)",
			 admin_req_esc(addr, esc, sizeof(esc)));
	return n;
}

static int admin_req_revoke_export(const struct admin_req_ctx *ctx, json_object *v, char *err,
				   size_t errlen)
{
	const char *name = json_object_get_string(v);
	char esc[256];
	int n;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"export\" wants an export name, a string");
		return -EINVAL;
	}
	n = server_revoke_export_name(ctx->srv, name, PROTO_REVOKE_ADMIN, ADMIN_REQ_REVOKE_TEXT);
	if (n < 0)
		snprintf(err, errlen, "no export '%s'", admin_req_esc(name, esc, sizeof(esc)));
	return n;
}

static json_object *admin_req_revoke(const struct admin_req_ctx *ctx, json_object *req,
				     char *err, size_t errlen)
{
	static const char *const keys[] = { "grant", "client", "export" };
	int (*const fns[])(const struct admin_req_ctx *, json_object *, char *, size_t) = {
		admin_req_revoke_grant, admin_req_revoke_client, admin_req_revoke_export,
	};
	json_object *v = NULL, *x;
	unsigned which = 0, given = 0;
	int n;

	for (unsigned i = 0; i < 3; i++) {
		if (json_object_object_get_ex(req, keys[i], &x)) {
			v = x;
			which = i;
			given++;
		}
	}
	if (given != 1) {
		snprintf(err, errlen, "revoke wants exactly one of \"grant\": ID, \"client\": "
			 "ADDRESS or \"export\": NAME");
		return NULL;
	}
	n = fns[which](ctx, v, err, errlen);
	if (n < 0)
		return NULL;
	LOG_NOTICE("admin (%s): revoke %s %s: %d grant%s revoked", ctx->who, keys[which],
		   json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE),
		   n, n == 1 ? "" : "s");
	return admin_req_ok("revoked", json_object_new_int(n));
}

static const struct admin_req_cmd {
	const char *name;
	admin_req_fn fn;
	bool args; /* takes keys besides "cmd" (checked by the command) */
} admin_req_cmds[] = {
	{ "exports", admin_req_exports, false },
	{ "grants", admin_req_grants, false },
	{ "clients", admin_req_clients, false },
	{ "stats", admin_req_stats, false },
	{ "revoke", admin_req_revoke, true },
};

/* A key nobody reads is most likely a typo: say so rather than ignore it. */
static int admin_req_check_keys(json_object *req, const struct admin_req_cmd *cmd, char *err,
				size_t errlen)
{
	char esc[256];

	json_object_object_foreach(req, key, val) {
		(void)val;
		if (!strcmp(key, "cmd"))
			continue;
		if (cmd->args && (!strcmp(key, "grant") || !strcmp(key, "client") ||
				  !strcmp(key, "export")))
			continue;
		snprintf(err, errlen, "%s takes no \"%s\"", cmd->name,
			 admin_req_esc(key, esc, sizeof(esc)));
		return -EINVAL;
	}
	return 0;
}

static json_object *admin_req_dispatch(const struct admin_req_ctx *ctx, json_object *req,
				       char *err, size_t errlen)
{
	json_object *cmdv;
	const char *name;
	char esc[256];

	if (!json_object_is_type(req, json_type_object)) {
		snprintf(err, errlen, "a request is a JSON object, like {\"cmd\": \"stats\"}");
		return NULL;
	}
	if (!json_object_object_get_ex(req, "cmd", &cmdv) ||
	    !json_object_is_type(cmdv, json_type_string)) {
		snprintf(err, errlen, "the request has no \"cmd\" string");
		return NULL;
	}
	name = json_object_get_string(cmdv);
	for (size_t i = 0; i < sizeof(admin_req_cmds) / sizeof(admin_req_cmds[0]); i++) {
		if (strcmp(name, admin_req_cmds[i].name))
			continue;
		if (admin_req_check_keys(req, &admin_req_cmds[i], err, errlen))
			return NULL;
		LOG_DEBUG("admin (%s): %s", ctx->who, name);
		return admin_req_cmds[i].fn(ctx, req, err, errlen);
	}
	snprintf(err, errlen,
		 "unknown command '%s': want exports, grants, clients, stats or revoke",
		 admin_req_esc(name, esc, sizeof(esc)));
	return NULL;
}

static json_object *admin_req_parse(const char *line, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *req;
	size_t end;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	req = json_tokener_parse_ex(tok, line, (int)len);
	if (!req) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		snprintf(err, errlen, "not JSON: %s", jerr == json_tokener_continue
			 ? "the line ends inside the request (one request per line)"
			 : json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && (line[end] == ' ' || line[end] == '\t'))
		end++;
	if (end < len) {
		snprintf(err, errlen, "trailing characters after the request at byte %zu", end);
		json_object_put(req);
		return NULL;
	}
	return req;
}

json_object *admin_req_run(const struct admin_req_ctx *ctx, const char *line, size_t len)
{
	char err[ADMIN_REQ_ERR_MAX] = "";
	json_object *req, *reply = NULL;

	if (len > ADMIN_LINE_MAX) {
		snprintf(err, sizeof(err), "request longer than %d bytes", ADMIN_LINE_MAX);
	} else {
		req = admin_req_parse(line, len, err, sizeof(err));
		if (req)
			reply = admin_req_dispatch(ctx, req, err, sizeof(err));
		json_object_put(req);
	}
	if (reply)
		return reply;
	if (!err[0])
		snprintf(err, sizeof(err), "out of memory");
	LOG_INFO("admin (%s): request refused: %s", ctx->who, err);
	return admin_req_error(err);
}
