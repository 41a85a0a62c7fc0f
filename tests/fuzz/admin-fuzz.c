/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the admin socket's requests (server/ADMIN.md): every
 * input is what a client sends, cut into lines as admin.c cuts it ("\n" or
 * "\r\n", blank lines skipped), each line run by admin_req_run against a
 * server of plain structs: two exports (one removed by a reload) and two
 * connections holding no grant, so that nothing reaches the verbs. The
 * daemon's real code is linked whole; none of it is faked.
 *
 * Every line gets one reply, one JSON object that prints on one line:
 * {"ok": true, KEY: PAYLOAD} for a request naming a command, KEY the
 * command's, or {"ok": false, "error": SENTENCE}, the sentence printable
 * ASCII whatever the client sent. No request changes the server. A broken
 * property aborts, which libFuzzer reports as a crash; a leak is reported by
 * LeakSanitizer.
 *
 * Built and run by tests/fuzz/run.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "admin-req.h"
#include "log.h"
#include "server-internal.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "admin-fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

static struct server srv;
static struct conn conns[2];
static struct export exps[2], *exp_tab[2] = { &exps[0], &exps[1] };
static struct admin_req_ctx ctx = { .srv = &srv, .who = "fuzz" };

/* The commands and the key of their payload. */
static const char *const fuzz_cmds[][2] = {
	{ "exports", "exports" }, { "grants", "grants" }, { "clients", "clients" },
	{ "stats", "stats" },     { "revoke", "revoked" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Every refused request is logged: millions of them say nothing. */
	log_init("admin-fuzz", LOG_LEVEL_ERROR, 0);
	snprintf(exps[0].cfg.name, sizeof(exps[0].cfg.name), "data");
	exps[0].cfg.path = "/mnt/dax/data";
	exps[0].cfg.size = 1 << 20;
	exps[0].cfg.writable = true;
	conf_parse_cidr("10.0.2.0/24", &exps[0].cfg.clients[0]);
	exps[0].cfg.nclients = 1;
	snprintf(exps[1].cfg.name, sizeof(exps[1].cfg.name), "gone");
	exps[1].cfg.path = "/mnt/dax/gone";
	exps[1].cfg.size = 4096;
	exps[1].cfg.mode = SEAL_MODE_PAGECACHE;
	exps[1].removed = true;
	srv.exports = exp_tab;
	srv.nexports = 2;
	TAILQ_INIT(&srv.conns);
	for (unsigned i = 0; i < 2; i++) {
		conns[i].srv = &srv;
		conns[i].serial = i + 1;
		TAILQ_INIT(&conns[i].grants);
		TAILQ_INIT(&conns[i].data);
		TAILQ_INSERT_TAIL(&srv.conns, &conns[i], entry);
		srv.nconns++;
	}
	conns[0].state = CONN_ESTABLISHED;
	conns[0].connected_ns = 1;
	conns[1].state = CONN_ACCEPTING;
	snprintf(conns[0].peer, sizeof(conns[0].peer), "10.0.2.15:40000");
	snprintf(conns[1].peer, sizeof(conns[1].peer), "10.0.2.16:40001");
	inet_pton(AF_INET, "10.0.2.15", &conns[0].peer_addr);
	inet_pton(AF_INET, "10.0.2.16", &conns[1].peer_addr);
	ctx.started_ns = util_now_ns();
	return 0;
}

/* The payload key of the command line names, NULL if it names none. */
static const char *fuzz_payload_key(const char *line, size_t len)
{
	char *s = strndup(line, len);
	json_object *req, *cmd;
	const char *key = NULL;

	FUZZ_CHECK(s);
	req = json_tokener_parse(s);
	free(s);
	if (json_object_object_get_ex(req, "cmd", &cmd) &&
	    json_object_is_type(cmd, json_type_string))
		for (size_t i = 0; i < sizeof(fuzz_cmds) / sizeof(fuzz_cmds[0]); i++)
			if (!strcmp(json_object_get_string(cmd), fuzz_cmds[i][0]))
				key = fuzz_cmds[i][1];
	json_object_put(req);
	return key;
}

static void fuzz_check_ok(const char *line, size_t len, json_object *reply)
{
	const char *key = fuzz_payload_key(line, len);
	json_object *payload;

	FUZZ_CHECK(len <= ADMIN_LINE_MAX);
	FUZZ_CHECK(key != NULL);
	FUZZ_CHECK(json_object_object_length(reply) == 2);
	FUZZ_CHECK(json_object_object_get_ex(reply, key, &payload));
	if (!strcmp(key, "exports"))
		FUZZ_CHECK(json_object_array_length(payload) == 2);
	else if (!strcmp(key, "clients"))
		FUZZ_CHECK(json_object_array_length(payload) == 2);
	else if (!strcmp(key, "grants"))
		FUZZ_CHECK(json_object_array_length(payload) == 0);
	else if (!strcmp(key, "stats"))
		FUZZ_CHECK(json_object_is_type(payload, json_type_object));
	else
		FUZZ_CHECK(json_object_get_int64(payload) == 0); /* there is no grant */
}

static void fuzz_check_refused(const char *line, size_t len, json_object *reply)
{
	json_object *errv;
	const char *err;

	FUZZ_CHECK(json_object_object_length(reply) == 2);
	FUZZ_CHECK(json_object_object_get_ex(reply, "error", &errv));
	FUZZ_CHECK(json_object_is_type(errv, json_type_string));
	err = json_object_get_string(errv);
	FUZZ_CHECK(err[0] && (size_t)json_object_get_string_len(errv) == strlen(err));
	/* What the client sent is escaped before it is echoed. */
	for (const char *p = err; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	if (len > ADMIN_LINE_MAX)
		FUZZ_CHECK(!strcmp(err, "request longer than 4096 bytes"));
}

static void fuzz_line(const char *line, size_t len)
{
	json_object *reply = admin_req_run(&ctx, line, len), *okv, *again;
	const char *s;

	FUZZ_CHECK(reply != NULL);
	FUZZ_CHECK(json_object_is_type(reply, json_type_object));
	FUZZ_CHECK(json_object_object_get_ex(reply, "ok", &okv));
	FUZZ_CHECK(json_object_is_type(okv, json_type_boolean));
	if (json_object_get_boolean(okv))
		fuzz_check_ok(line, len, reply);
	else
		fuzz_check_refused(line, len, reply);

	/* As admin_send puts it: one line, which reads back as the reply. */
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE);
	FUZZ_CHECK(s && !strchr(s, '\n'));
	again = json_tokener_parse(s);
	FUZZ_CHECK(again && json_object_equal(reply, again));
	json_object_put(again);
	json_object_put(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p), i;

		/* evbuffer_readln(EVBUFFER_EOL_CRLF) drops a "\r" before the "\n". */
		if (nl && len && p[len - 1] == '\r')
			len--;
		for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i < len) {
			/* A buffer of its own, so that ASan sees a read past the line's end. */
			char *line = malloc(len);

			FUZZ_CHECK(line);
			memcpy(line, p, len);
			fuzz_line(line, len);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
	FUZZ_CHECK(srv.nconns == 2 && srv.nexports == 2);
	for (unsigned i = 0; i < 2; i++)
		FUZZ_CHECK(conns[i].ngrants == 0 && TAILQ_EMPTY(&conns[i].grants));
	return 0;
}
