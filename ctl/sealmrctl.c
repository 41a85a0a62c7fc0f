/* SPDX-License-Identifier: MIT */
/*
 * sealmrctl: sealmrd's admin socket from the shell. One request, one reply
 * (server/ADMIN.md); tables for people, the daemon's JSON with --json.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include <ini.h>

#include "proto.h"
#include "util.h"

#define CTL_TIMEOUT_MS 10000
#define CTL_REPLY_MAX (256u << 20)
#define CTL_COLS_MAX 12

enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 1,       /* bad arguments or configuration */
	CTL_UNREACHABLE = 2, /* no connection, or no proper reply on it */
	CTL_REFUSED = 3,     /* the daemon answered with an error */
};

#define CTL_SYNOPSIS \
	"usage: sealmrctl [-s SOCKET] [-c CONFIG] exports|grants|clients|stats [--json]\n" \
	"       sealmrctl [-s SOCKET] [-c CONFIG] revoke GRANT_ID|--client ADDR|--export NAME\n"

static void usage(FILE *fp)
{
	fprintf(fp, CTL_SYNOPSIS
		"  exports            the exports: path, size, access, mode, seal, grants\n"
		"  grants             every grant: id, client, export, range, access, age\n"
		"  clients            every connection: address, serial, state, grants, data QPs, age\n"
		"  stats              counters since the daemon started, and what is held now\n"
		"  revoke GRANT_ID    take one grant back (its rkey dies, the client is told)\n"
		"  revoke --client ADDRESS\n"
		"                     every grant of a client: IP (all its connections)\n"
		"                     or IP:PORT (one connection)\n"
		"  revoke --export NAME\n"
		"                     every grant on an export\n"
		"  -s SOCKET          the daemon's admin socket\n"
		"  -c CONFIG          take admin_socket from this sealmrd.conf\n"
		"                     (default socket " PROTO_ADMIN_SOCKET_DEFAULT ")\n"
		"  --json             print the daemon's JSON reply\n"
		"exit status: 0 ok, 1 bad usage or configuration, 2 cannot reach the daemon,\n"
		"3 the daemon answered an error\n");
}

static void ctl_short_usage(void)
{
	fprintf(stderr, CTL_SYNOPSIS "sealmrctl -h says more\n");
}

/* ---- talking to the daemon -------------------------------------------- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "sealmrctl: cannot connect to %s: %s\n", path,
			strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	err = errno;
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "sealmrctl: cannot connect to %s: %s%s\n", path, strerror(err),
		err == ENOENT || err == ECONNREFUSED
			? " (is sealmrd running? -s SOCKET or -c CONFIG name another socket)"
		: err == EACCES ? " (the socket is mode 0600: run as the daemon's user)" : "");
	return -1;
}

/* Waits for fd (POLLIN or POLLOUT) within the deadline; 0 or -errno. */
static int ctl_wait(int fd, short events, const struct timespec *t0)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int left = CTL_TIMEOUT_MS - util_elapsed_ms(t0), n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int ctl_send(int fd, const char *buf, size_t len, const struct timespec *t0)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = ctl_wait(fd, POLLOUT, t0);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reads up to the first newline into *out (malloc'ed, NUL-terminated). */
static int ctl_recv_line(int fd, char **out, const struct timespec *t0)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nl = NULL;

	if (!buf)
		return -ENOMEM;
	while (!nl) {
		ssize_t n;
		int rc;

		if (cap - len < 4096) {
			char *b = cap < CTL_REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				free(buf);
				return -EMSGSIZE;
			}
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n == 0) {
			free(buf);
			return -ECONNRESET;
		}
		if (n < 0) {
			rc = errno == EAGAIN || errno == EINTR ? ctl_wait(fd, POLLIN, t0) : -errno;
			if (rc) {
				free(buf);
				return rc;
			}
			continue;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	*nl = '\0';
	*out = buf;
	return 0;
}

/* One request, one reply. CTL_OK with *reply set, or CTL_UNREACHABLE (said why). */
static int ctl_call(const char *path, json_object *req, json_object **reply)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	struct timespec t0;
	char *line = NULL;
	json_object *r;
	int fd, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = ctl_connect(path);
	if (fd < 0)
		return CTL_UNREACHABLE;
	rc = ctl_send(fd, s, strlen(s), &t0);
	if (!rc)
		rc = ctl_send(fd, "\n", 1, &t0);
	if (!rc)
		rc = ctl_recv_line(fd, &line, &t0);
	close(fd);
	if (rc) {
		fprintf(stderr, "sealmrctl: %s: %s\n", path,
			rc == -ECONNRESET ? "the daemon closed the connection without a reply"
			: rc == -ETIMEDOUT ? "no reply within 10 s"
					   : strerror(-rc));
		return CTL_UNREACHABLE;
	}
	r = json_tokener_parse(line);
	if (!r || !json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "ok", NULL)) {
		fprintf(stderr, "sealmrctl: %s: the reply is not the admin protocol: %.200s\n",
			path, line);
		json_object_put(r);
		free(line);
		return CTL_UNREACHABLE;
	}
	free(line);
	*reply = r;
	return CTL_OK;
}

/* ---- reading the reply ------------------------------------------------ */

static const char *ctl_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static uint64_t ctl_u64(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static bool ctl_null(json_object *o, const char *key)
{
	json_object *v;

	return !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null);
}

/* Exact: 4K, 64M, 1G when the number is a multiple, else bytes. */
static const char *ctl_size(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (n && n % 1024 == 0 && u < 4) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, n);
	else
		snprintf(buf, len, "%" PRIu64 "%c", n, units[u]);
	return buf;
}

static const char *ctl_age(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return buf;
}

/* ---- tables ----------------------------------------------------------- */

struct ctl_table {
	unsigned ncols;
	size_t ncells, cap;
	char **cells;
	bool oom;
};

static void ctl_cell(struct ctl_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctl_cell(struct ctl_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->oom)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c) {
			t->oom = true;
			return;
		}
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		t->oom = true;
	else
		t->cells[t->ncells++] = s;
	va_end(ap);
}

/* Left-aligned columns two spaces apart; the last one is not padded. */
static int ctl_table_print(struct ctl_table *t)
{
	size_t w[CTL_COLS_MAX] = { 0 };

	if (t->oom) {
		fprintf(stderr, "sealmrctl: out of memory\n");
		return CTL_USAGE;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t n = strlen(t->cells[i]);

		if (n > w[i % t->ncols])
			w[i % t->ncols] = n;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		unsigned col = (unsigned)(i % t->ncols);

		if (col + 1 == t->ncols)
			printf("%s\n", t->cells[i]);
		else
			printf("%-*s  ", (int)w[col], t->cells[i]);
	}
	return CTL_OK;
}

static void ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void ctl_header(struct ctl_table *t, const char *const *names)
{
	for (t->ncols = 0; names[t->ncols]; t->ncols++)
		ctl_cell(t, "%s", names[t->ncols]);
}

/* ---- the commands' output --------------------------------------------- */

static void ctl_export_row(struct ctl_table *t, json_object *e)
{
	json_object *cl = json_object_object_get(e, "clients");
	size_t ncl = json_object_array_length(cl);
	char a[32], b[32], *clients = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&clients, &len);

	for (size_t i = 0; fp && i < ncl; i++)
		fprintf(fp, "%s%s", i ? "," : "", json_object_get_string(
			json_object_array_get_idx(cl, i)));
	if (fp)
		fclose(fp);
	ctl_cell(t, "%s%s", ctl_str(e, "name"),
		 json_object_get_boolean(json_object_object_get(e, "removed")) ? " (removed)" : "");
	ctl_cell(t, "%s", ctl_str(e, "path"));
	ctl_cell(t, "%s", ctl_size(ctl_u64(e, "offset"), a, sizeof(a)));
	ctl_cell(t, "%s", ctl_size(ctl_u64(e, "size"), b, sizeof(b)));
	ctl_cell(t, "%s", ctl_str(e, "access"));
	ctl_cell(t, "%s", ctl_str(e, "mode"));
	ctl_cell(t, "%s", json_object_get_boolean(json_object_object_get(e, "sealed")) ? "yes"
											 : "no");
	ctl_cell(t, "%s", ctl_str(e, "reg"));
	ctl_cell(t, "%" PRIu64, ctl_u64(e, "grants"));
	ctl_cell(t, "%" PRIu64, ctl_u64(e, "commits"));
	ctl_cell(t, "%s", clients && *clients ? clients : "all");
	free(clients);
}

static void ctl_grant_row(struct ctl_table *t, json_object *g)
{
	char a[32], b[32], c[32];

	ctl_cell(t, "%" PRIu64, ctl_u64(g, "id"));
	ctl_cell(t, "%s", ctl_str(g, "client"));
	ctl_cell(t, "%s", ctl_str(g, "export"));
	ctl_cell(t, "%s", ctl_size(ctl_u64(g, "offset"), a, sizeof(a)));
	ctl_cell(t, "%s", ctl_size(ctl_u64(g, "length"), b, sizeof(b)));
	ctl_cell(t, "%s", ctl_str(g, "access"));
	ctl_cell(t, "%s", ctl_age(ctl_u64(g, "age"), c, sizeof(c)));
}

static void ctl_client_row(struct ctl_table *t, json_object *c)
{
	char a[32];

	ctl_cell(t, "%s", ctl_str(c, "address"));
	ctl_cell(t, "%" PRIu64, ctl_u64(c, "serial"));
	ctl_cell(t, "%s", ctl_str(c, "state"));
	ctl_cell(t, "%" PRIu64, ctl_u64(c, "grants"));
	ctl_cell(t, "%" PRIu64, ctl_u64(c, "qps"));
	ctl_cell(t, "%s", ctl_null(c, "age") ? "-" : ctl_age(ctl_u64(c, "age"), a, sizeof(a)));
}

static int ctl_print_list(json_object *reply, const char *cmd)
{
	static const char *const exports[] = { "NAME", "PATH", "OFFSET", "SIZE", "ACCESS", "MODE",
					       "SEALED", "REG", "GRANTS", "COMMITS", "CLIENTS",
					       NULL };
	static const char *const grants[] = { "ID", "CLIENT", "EXPORT", "OFFSET", "LENGTH",
					      "ACCESS", "AGE", NULL };
	static const char *const clients[] = { "ADDRESS", "SERIAL", "STATE", "GRANTS", "QPS",
					       "AGE", NULL };
	json_object *arr = json_object_object_get(reply, cmd);
	struct ctl_table t = { 0 };
	int rc;

	if (!json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "sealmrctl: the reply has no \"%s\" list\n", cmd);
		return CTL_UNREACHABLE;
	}
	ctl_header(&t, !strcmp(cmd, "exports") ? exports : !strcmp(cmd, "grants") ? grants
											 : clients);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!strcmp(cmd, "exports"))
			ctl_export_row(&t, o);
		else if (!strcmp(cmd, "grants"))
			ctl_grant_row(&t, o);
		else
			ctl_client_row(&t, o);
	}
	rc = ctl_table_print(&t);
	ctl_table_free(&t);
	return rc;
}

static int ctl_print_stats(json_object *reply)
{
	json_object *s = json_object_object_get(reply, "stats");
	char age[32];

	if (!json_object_is_type(s, json_type_object)) {
		fprintf(stderr, "sealmrctl: the reply has no \"stats\"\n");
		return CTL_UNREACHABLE;
	}
	printf("uptime        %s\n", ctl_age(ctl_u64(s, "uptime"), age, sizeof(age)));
	printf("exports       %" PRIu64 "\n", ctl_u64(s, "exports"));
	printf("connections   %" PRIu64 " (%" PRIu64 " now)\n", ctl_u64(s, "connections"),
	       ctl_u64(s, "current_connections"));
	printf("rejected      %" PRIu64 "\n", ctl_u64(s, "rejected"));
	printf("grants        %" PRIu64 " (%" PRIu64 " now)\n", ctl_u64(s, "grants"),
	       ctl_u64(s, "current_grants"));
	printf("revokes       %" PRIu64 "\n", ctl_u64(s, "revokes"));
	printf("seals         %" PRIu64 " (%" PRIu64 " now)\n", ctl_u64(s, "seals"),
	       ctl_u64(s, "current_seals"));
	printf("commits       %" PRIu64 "\n", ctl_u64(s, "commits"));
	printf("small writes  %" PRIu64 "\n", ctl_u64(s, "small_writes"));
	printf("small reads   %" PRIu64 "\n", ctl_u64(s, "small_reads"));
	printf("errors        %" PRIu64 "\n", ctl_u64(s, "errors"));
	printf("bad messages  %" PRIu64 "\n", ctl_u64(s, "bad_messages"));
	return CTL_OK;
}

static int ctl_print(json_object *reply, const char *cmd, bool json)
{
	uint64_t n;

	if (json) {
		puts(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
		return CTL_OK;
	}
	if (!strcmp(cmd, "stats"))
		return ctl_print_stats(reply);
	if (strcmp(cmd, "revoke"))
		return ctl_print_list(reply, cmd);
	n = ctl_u64(reply, "revoked");
	printf("revoked %" PRIu64 " grant%s\n", n, n == 1 ? "" : "s");
	return CTL_OK;
}

/* ---- arguments -------------------------------------------------------- */

struct ctl_args {
	const char *socket;
	const char *config;
	const char *cmd;
	const char *grant; /* revoke GRANT_ID */
	const char *client;
	const char *export;
	bool json;
};

static int ctl_parse_args(int argc, char **argv, struct ctl_args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "client", required_argument, NULL, 'C' },
		{ "export", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "s:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': a->socket = optarg; break;
		case 'c': a->config = optarg; break;
		case 'j': a->json = true; break;
		case 'C': a->client = optarg; break;
		case 'E': a->export = optarg; break;
		case 'h': usage(stdout); exit(CTL_OK);
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		a->cmd = argv[optind++];
	if (optind < argc)
		a->grant = argv[optind++];
	if (!a->cmd || optind < argc) {
		fprintf(stderr, "sealmrctl: %s\n", a->cmd ? "too many arguments" : "no command");
		return -EINVAL;
	}
	if (strcmp(a->cmd, "revoke")) {
		if (a->grant || a->client || a->export) {
			fprintf(stderr, "sealmrctl: %s takes no argument but --json\n", a->cmd);
			return -EINVAL;
		}
		return 0;
	}
	if (!!a->grant + !!a->client + !!a->export != 1) {
		fprintf(stderr, "sealmrctl: revoke wants one of GRANT_ID, --client ADDRESS, "
			"--export NAME\n");
		return -EINVAL;
	}
	return 0;
}

static json_object *ctl_request(const struct ctl_args *a)
{
	json_object *req = json_object_new_object();
	char *end;
	unsigned long long id;

	if (!req)
		return NULL;
	json_object_object_add(req, "cmd", json_object_new_string(a->cmd));
	if (a->client)
		json_object_object_add(req, "client", json_object_new_string(a->client));
	if (a->export)
		json_object_object_add(req, "export", json_object_new_string(a->export));
	if (a->grant) {
		errno = 0;
		id = strtoull(a->grant, &end, 10);
		if (*a->grant < '0' || *a->grant > '9' || *end || errno || id == 0 ||
		    id > INT64_MAX) {
			fprintf(stderr, "sealmrctl: revoke %s: a grant id is a positive number "
				"(sealmrctl grants lists them)\n", a->grant);
			json_object_put(req);
			return NULL;
		}
		json_object_object_add(req, "grant", json_object_new_uint64(id));
	}
	return req;
}

/* admin_socket of [sealmrd], the last one as for sealmrd; nothing else of
 * the file is read, so an export sealmrd would refuse does not matter here. */
static int ctl_conf_key(void *user, const char *section, const char *name, const char *value)
{
	char **path = user;

	if (!strcmp(section, "sealmrd") && !strcmp(name, "admin_socket")) {
		free(*path);
		*path = strdup(value);
		if (!*path)
			return 0;
	}
	return 1;
}

/* -s, else admin_socket of -c, else the default. */
static int ctl_socket_path(const struct ctl_args *a, char **out)
{
	char *path = NULL;
	int rc;

	if (a->socket || !a->config) {
		*out = strdup(a->socket ? a->socket : PROTO_ADMIN_SOCKET_DEFAULT);
		return *out ? 0 : -ENOMEM;
	}
	rc = ini_parse(a->config, ctl_conf_key, &path);
	if (rc < 0) {
		fprintf(stderr, "sealmrctl: %s: %s\n", a->config, strerror(errno));
		free(path);
		return -EINVAL;
	}
	if (rc > 0)
		fprintf(stderr, "sealmrctl: %s:%d: not an INI line (ignored: only admin_socket "
			"is read here; sealmrd -t -c %s checks the whole file)\n", a->config, rc,
			a->config);
	*out = path ? path : strdup(PROTO_ADMIN_SOCKET_DEFAULT);
	return *out ? 0 : -ENOMEM;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = { "exports", "grants", "clients", "stats", "revoke" };
	struct ctl_args a = { 0 };
	json_object *req, *reply = NULL, *err;
	char *path = NULL;
	bool known = false;
	int rc;

	if (ctl_parse_args(argc, argv, &a)) {
		ctl_short_usage();
		return CTL_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		known |= !strcmp(a.cmd, cmds[i]);
	if (!known) {
		fprintf(stderr, "sealmrctl: unknown command '%s'\n", a.cmd);
		ctl_short_usage();
		return CTL_USAGE;
	}
	req = ctl_request(&a);
	if (!req)
		return CTL_USAGE;
	if (ctl_socket_path(&a, &path)) {
		json_object_put(req);
		return CTL_USAGE;
	}
	rc = ctl_call(path, req, &reply);
	json_object_put(req);
	if (rc == CTL_OK && !json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		err = json_object_object_get(reply, "error");
		fprintf(stderr, "sealmrctl: %s\n", err ? json_object_get_string(err)
						       : "the daemon refused without saying why");
		rc = CTL_REFUSED;
	} else if (rc == CTL_OK) {
		rc = ctl_print(reply, a.cmd, a.json);
	}
	json_object_put(reply);
	free(path);
	return rc;
}
