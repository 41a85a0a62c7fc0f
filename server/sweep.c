/* SPDX-License-Identifier: MIT */
/*
 * sweep: the walks over the server's tables that revocation needs: an
 * export by name, and every grant a revocation reaches, on one connection or
 * on all of them. Apart from conn.c so that the admin requests can be tested
 * against these very loops with only conn_revoke (the verbs part) faked.
 */
#include "config.h"

#include <string.h>

#include "server.h"

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

struct export *server_find_export(struct server *srv, const char *name)
{
	/* A removed export stays in the table until its last grant is gone. */
	for (unsigned i = 0; i < srv->nexports; i++)
		if (!srv->exports[i]->removed && !strcmp(srv->exports[i]->cfg.name, name))
			return srv->exports[i];
	return NULL;
}
