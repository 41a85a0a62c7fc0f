/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of admin_req_run: the admin requests against a server made of
 * plain structs (two connections, three grants, two exports: the server's
 * own state, server-internal.h), through the daemon's views and
 * revocations (view.c), which is all admin-req.c sees of it (server.h).
 * Only conn_revoke, the verbs part, is faked:
 * it records what it was asked and unlinks the grant, as the real one does
 * after killing the rkey.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "admin-req.h"
#include "grant.h"
#include "server-internal.h"

static struct server srv;
static struct conn conns[2];
static struct grant grants[3];
static struct export exps[2], *exp_tab[2] = { &exps[0], &exps[1] };
static uint64_t revoked[8];
static unsigned nrevoked;
static const struct admin_req_ctx ctx = { .srv = &srv, .who = "test" };

/* ---- what admin-req.c calls ------------------------------------------- */

void conn_revoke(struct conn *c, struct grant *g, uint32_t reason, const char *text)
{
	assert_int_equal(reason, PROTO_REVOKE_ADMIN);
	assert_string_equal(text, "revoked by the administrator");
	assert_true(nrevoked < 8);
	revoked[nrevoked++] = g->id;
	TAILQ_REMOVE(&c->grants, g, entry);
	c->ngrants--;
}

const char *conn_state_name(enum conn_state state)
{
	return state == CONN_ESTABLISHED ? "established" : "?";
}

const char *export_reg_name(enum export_reg reg)
{
	return "odp";
}

/* ---- fixtures --------------------------------------------------------- */

static void add_grant(unsigned i, struct conn *c, struct export *exp)
{
	grants[i] = (struct grant){ .id = i + 1, .exp = exp, .length = 4096 };
	TAILQ_INSERT_TAIL(&c->grants, &grants[i], entry);
	c->ngrants++;
}

static int setup(void **state)
{
	memset(&srv, 0, sizeof(srv));
	memset(conns, 0, sizeof(conns));
	memset(exps, 0, sizeof(exps));
	nrevoked = 0;
	snprintf(exps[0].cfg.name, sizeof(exps[0].cfg.name), "data");
	snprintf(exps[1].cfg.name, sizeof(exps[1].cfg.name), "other");
	exps[0].cfg.path = "/mnt/data";
	exps[1].cfg.path = "/mnt/other";
	srv.exports = exp_tab;
	srv.nexports = 2;
	TAILQ_INIT(&srv.conns);
	for (unsigned i = 0; i < 2; i++) {
		conns[i].serial = i + 1;
		conns[i].state = CONN_ESTABLISHED;
		TAILQ_INIT(&conns[i].grants);
		TAILQ_INSERT_TAIL(&srv.conns, &conns[i], entry);
		srv.nconns++;
	}
	snprintf(conns[0].peer, sizeof(conns[0].peer), "10.0.2.15:40000");
	snprintf(conns[1].peer, sizeof(conns[1].peer), "10.0.2.16:40001");
	inet_pton(AF_INET, "10.0.2.15", &conns[0].peer_addr);
	inet_pton(AF_INET, "10.0.2.16", &conns[1].peer_addr);
	/* Inserted out of id order: the grants list is sorted by id. */
	add_grant(2, &conns[0], &exps[0]);
	add_grant(0, &conns[0], &exps[1]);
	add_grant(1, &conns[1], &exps[0]);
	srv.stats.revokes = 5;
	return 0;
}

static json_object *run(const char *line)
{
	json_object *r = admin_req_run(&ctx, line, strlen(line));

	assert_non_null(r);
	return r;
}

/* The error of a refused request; fails the test if it was not refused. */
static void assert_refused(const char *line, const char *want_prefix)
{
	json_object *r = run(line);
	const char *err = json_object_get_string(json_object_object_get(r, "error"));

	assert_false(json_object_get_boolean(json_object_object_get(r, "ok")));
	assert_non_null(err);
	if (strncmp(err, want_prefix, strlen(want_prefix)))
		fail_msg("'%s': got error '%s', want '%s...'", line, err, want_prefix);
	json_object_put(r);
}

static int64_t run_revoke(const char *line)
{
	json_object *r = run(line);
	int64_t n;

	assert_true(json_object_get_boolean(json_object_object_get(r, "ok")));
	n = json_object_get_int64(json_object_object_get(r, "revoked"));
	json_object_put(r);
	return n;
}

/* ---- malformed requests ----------------------------------------------- */

static void admin_req_run__refuses_what_is_not_a_request(void **state)
{
	assert_refused("this is not json", "not JSON: ");
	assert_refused("{\"cmd\":", "not JSON: the line ends inside the request");
	assert_refused("[1, 2]", "a request is a JSON object");
	assert_refused("\"stats\"", "a request is a JSON object");
	assert_refused("{\"nocmd\": 1}", "the request has no \"cmd\" string");
	assert_refused("{\"cmd\": 7}", "the request has no \"cmd\" string");
	assert_refused("{\"cmd\": \"stats\"} x", "trailing characters after the request at byte 17");
	assert_refused("{\"cmd\": \"stats\"}{}", "trailing characters");
}

static void admin_req_run__names_an_unknown_command(void **state)
{
	assert_refused("{\"cmd\": \"frob\"}",
		       "unknown command 'frob': want exports, grants, clients, stats or revoke");
	/* Control characters are escaped before they are echoed. */
	assert_refused("{\"cmd\": \"a\\nb\"}", "unknown command 'a\\x0ab'");
}

static void admin_req_run__refuses_a_key_the_command_does_not_take(void **state)
{
	assert_refused("{\"cmd\": \"stats\", \"verbose\": 1}", "stats takes no \"verbose\"");
	assert_refused("{\"cmd\": \"grants\", \"grant\": 1}", "grants takes no \"grant\"");
	assert_refused("{\"cmd\": \"revoke\", \"grnat\": 1}", "revoke takes no \"grnat\"");
}

static void admin_req_run__refuses_a_line_too_long(void **state)
{
	char line[ADMIN_LINE_MAX + 2];
	json_object *r;

	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"cmd\": \"stats\"}", 16);
	r = admin_req_run(&ctx, line, sizeof(line));
	assert_string_equal(json_object_get_string(json_object_object_get(r, "error")),
			    "request longer than 4096 bytes");
	json_object_put(r);
	/* Spaces after the request are fine within the limit. */
	r = admin_req_run(&ctx, line, ADMIN_LINE_MAX);
	assert_true(json_object_get_boolean(json_object_object_get(r, "ok")));
	json_object_put(r);
}

/* ---- the lists -------------------------------------------------------- */

static void admin_req_run__lists_grants_by_id(void **state)
{
	json_object *r = run("{\"cmd\": \"grants\"}");
	json_object *arr = json_object_object_get(r, "grants");

	assert_int_equal(json_object_array_length(arr), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *g = json_object_array_get_idx(arr, i);

		assert_int_equal(json_object_get_int64(json_object_object_get(g, "id")), i + 1);
		assert_string_equal(json_object_get_string(json_object_object_get(g, "access")),
				    "ro");
	}
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(arr, 1), "client")),
			    "10.0.2.16:40001");
	json_object_put(r);
}

static void admin_req_run__counts_what_is_held_now(void **state)
{
	json_object *r = run("{\"cmd\": \"stats\"}");
	json_object *s = json_object_object_get(r, "stats");

	assert_int_equal(json_object_get_int64(json_object_object_get(s, "current_grants")), 3);
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "current_connections")), 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "revokes")), 5);
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "exports")), 2);
	json_object_put(r);
	r = run("{\"cmd\": \"clients\"}");
	assert_int_equal(json_object_array_length(json_object_object_get(r, "clients")), 2);
	json_object_put(r);
	r = run("{\"cmd\": \"exports\"}");
	assert_int_equal(json_object_array_length(json_object_object_get(r, "exports")), 2);
	json_object_put(r);
}

/* ---- revoke ----------------------------------------------------------- */

static void admin_req_run__revokes_one_grant_by_id(void **state)
{
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"grant\": 2}"), 1);
	assert_int_equal(nrevoked, 1);
	assert_int_equal(revoked[0], 2);
	assert_int_equal(conns[1].ngrants, 0);
	assert_refused("{\"cmd\": \"revoke\", \"grant\": 2}", "no grant 2");
	assert_refused("{\"cmd\": \"revoke\", \"grant\": 99}", "no grant 99");
}

static void admin_req_run__wants_a_grant_id_that_is_a_positive_integer(void **state)
{
	assert_refused("{\"cmd\": \"revoke\", \"grant\": \"2\"}", "\"grant\" wants a grant id");
	assert_refused("{\"cmd\": \"revoke\", \"grant\": 0}", "\"grant\" wants a grant id");
	assert_refused("{\"cmd\": \"revoke\", \"grant\": -1}", "\"grant\" wants a grant id");
	assert_refused("{\"cmd\": \"revoke\", \"grant\": 2.0}", "\"grant\" wants a grant id");
	assert_int_equal(nrevoked, 0);
}

static void admin_req_run__revokes_by_client(void **state)
{
	/* IP:PORT names one connection, IP every connection of the host. */
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"client\": \"10.0.2.15:40000\"}"), 2);
	assert_int_equal(conns[0].ngrants, 0);
	assert_int_equal(conns[1].ngrants, 1);
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"client\": \"10.0.2.15\"}"), 0);
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"client\": \"10.0.2.16\"}"), 1);
	assert_refused("{\"cmd\": \"revoke\", \"client\": \"10.0.2.1\"}", "no client 10.0.2.1 ");
	assert_refused("{\"cmd\": \"revoke\", \"client\": \"10.0.2.15:1\"}", "no client");
	assert_refused("{\"cmd\": \"revoke\", \"client\": 5}", "\"client\" wants an address");
}

static void admin_req_run__revokes_by_export(void **state)
{
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"export\": \"data\"}"), 2);
	assert_int_equal(nrevoked, 2);
	assert_int_equal(conns[0].ngrants + conns[1].ngrants, 1);
	assert_ptr_equal(TAILQ_FIRST(&conns[0].grants)->exp, &exps[1]);
	assert_int_equal(run_revoke("{\"cmd\": \"revoke\", \"export\": \"data\"}"), 0);
	assert_refused("{\"cmd\": \"revoke\", \"export\": \"nope\"}", "no export 'nope'");
}

static void admin_req_run__wants_exactly_one_target(void **state)
{
	assert_refused("{\"cmd\": \"revoke\"}", "revoke wants exactly one of");
	assert_refused("{\"cmd\": \"revoke\", \"grant\": 1, \"export\": \"data\"}",
		       "revoke wants exactly one of");
	assert_int_equal(nrevoked, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(admin_req_run__refuses_what_is_not_a_request, setup),
		cmocka_unit_test_setup(admin_req_run__names_an_unknown_command, setup),
		cmocka_unit_test_setup(admin_req_run__refuses_a_key_the_command_does_not_take,
				       setup),
		cmocka_unit_test_setup(admin_req_run__refuses_a_line_too_long, setup),
		cmocka_unit_test_setup(admin_req_run__lists_grants_by_id, setup),
		cmocka_unit_test_setup(admin_req_run__counts_what_is_held_now, setup),
		cmocka_unit_test_setup(admin_req_run__revokes_one_grant_by_id, setup),
		cmocka_unit_test_setup(admin_req_run__wants_a_grant_id_that_is_a_positive_integer,
				       setup),
		cmocka_unit_test_setup(admin_req_run__revokes_by_client, setup),
		cmocka_unit_test_setup(admin_req_run__revokes_by_export, setup),
		cmocka_unit_test_setup(admin_req_run__wants_exactly_one_target, setup),
	};
	log_init("admin-req-run", LOG_LEVEL_ERROR, 0);
	return cmocka_run_group_tests_name("admin_req_run", tests, NULL, NULL);
}
