/* SPDX-License-Identifier: MIT */
/*
 * view: the server's tables as the admin requests see them (server.h's
 * views), the walks that revocation needs, and the administrator's
 * revocations by grant, client and export.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "grant.h"
#include "server-internal.h"

struct export *server_find_export(struct server *srv, const char *name)
{
	/* A removed export stays in the table until its last grant is gone. */
	for (unsigned i = 0; i < srv->nexports; i++)
		if (!srv->exports[i]->removed && !strcmp(srv->exports[i]->cfg.name, name))
			return srv->exports[i];
	return NULL;
}

unsigned conn_revoke_export(struct conn *c, struct export *exp, uint32_t reason,
			    const char *text)
{
	struct grant *g, *next;
	unsigned n = 0;

	/* conn_revoke frees g: step past it first. */
	for (g = TAILQ_FIRST(&c->grants); g; g = next) {
		next = TAILQ_NEXT(g, entry);
		if (!exp || g->exp == exp) {
			conn_revoke(c, g, reason, text);
			n++;
		}
	}
	return n;
}

unsigned server_revoke_export(struct server *srv, struct export *exp, uint32_t reason,
			      const char *text)
{
	struct conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &srv->conns, entry)
		n += conn_revoke_export(c, exp, reason, text);
	return n;
}

void server_each_export(struct server *srv,
			void (*fn)(const struct server_export_view *v, void *arg), void *arg)
{
	for (unsigned i = 0; i < srv->nexports; i++) {
		const struct export *exp = srv->exports[i];
		const struct server_export_view v = {
			.name = exp->cfg.name,
			.path = exp->cfg.path,
			.offset = exp->cfg.offset,
			.size = exp->cfg.size,
			.writable = exp->cfg.writable,
			.dax = exp->cfg.mode == SEAL_MODE_DAX,
			.sealed = exp->seal != NULL,
			.removed = exp->removed,
			/* How grants are registered is decided when the seal is taken. */
			.reg = exp->seal ? export_reg_name(exp->reg) : NULL,
			.grants = exp->grants,
			.commits = exp->commits,
			.clients = exp->cfg.clients,
			.nclients = exp->cfg.nclients,
		};

		fn(&v, arg);
	}
}

void server_each_client(struct server *srv,
			void (*fn)(const struct server_client_view *v, void *arg), void *arg)
{
	const struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		const struct server_client_view v = {
			.address = c->peer,
			.serial = c->serial,
			.state = conn_state_name(c->state),
			.grants = c->ngrants,
			.qps = c->ndata,
			.connected_ns = c->connected_ns,
		};

		fn(&v, arg);
	}
}

void server_each_grant(struct server *srv,
		       void (*fn)(const struct server_grant_view *v, void *arg), void *arg)
{
	const struct conn *c;
	const struct grant *g;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		TAILQ_FOREACH(g, &c->grants, entry) {
			const struct server_grant_view v = {
				.id = g->id,
				.client = c->peer,
				.client_serial = c->serial,
				.export = g->exp->cfg.name,
				.offset = g->offset,
				.length = g->length,
				.writable = g->writable,
				.created_ns = g->created_ns,
			};

			fn(&v, arg);
		}
	}
}

const struct server_stats *server_get_stats(const struct server *srv)
{
	return &srv->stats;
}

void server_get_totals(const struct server *srv, struct server_totals *out)
{
	const struct conn *c;

	memset(out, 0, sizeof(*out));
	out->connections = srv->nconns;
	TAILQ_FOREACH(c, &srv->conns, entry)
		out->grants += c->ngrants;
	for (unsigned i = 0; i < srv->nexports; i++) {
		out->seals += srv->exports[i]->seal != NULL;
		out->exports += !srv->exports[i]->removed;
	}
}

int server_revoke_grant_id(struct server *srv, uint64_t id, uint32_t reason, const char *text)
{
	struct conn *c;
	struct grant *g;

	TAILQ_FOREACH(c, &srv->conns, entry)
		TAILQ_FOREACH(g, &c->grants, entry)
			if (g->id == id) {
				conn_revoke(c, g, reason, text);
				return 1;
			}
	return -ENOENT;
}

/* "10.0.2.15" names every connection from that host, "10.0.2.15:40102" one. */
static bool server_client_matches(const struct conn *c, const char *addr)
{
	char ip[INET_ADDRSTRLEN];

	if (strchr(addr, ':'))
		return !strcmp(c->peer, addr);
	return inet_ntop(AF_INET, &c->peer_addr, ip, sizeof(ip)) && !strcmp(ip, addr);
}

int server_revoke_client(struct server *srv, const char *address, uint32_t reason,
			 const char *text)
{
	struct conn *c;
	unsigned matched = 0;
	int n = 0;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (!server_client_matches(c, address))
			continue;
		matched++;
		n += (int)conn_revoke_export(c, NULL, reason, text);
	}
	return matched ? n : -ENOENT;
}

int server_revoke_export_name(struct server *srv, const char *name, uint32_t reason,
			      const char *text)
{
	struct export *exp = server_find_export(srv, name);

	return exp ? (int)server_revoke_export(srv, exp, reason, text) : -ENOENT;
}
