/* SPDX-License-Identifier: MIT */
/*
 * The server's own state, for the files of the daemon's core (server.c,
 * view.c, conn*.c) and the tests that build one by hand. Everything else
 * (the admin socket and its requests) sees server.h only.
 */
#ifndef SEALMR_SERVER_INTERNAL_H
#define SEALMR_SERVER_INTERNAL_H

#include <event2/event.h>
#include <rdma/rdma_cma.h>

#include "conf.h"
#include "conn.h"
#include "export.h"
#include "seal.h"
#include "server.h"

struct admin;

struct server {
	struct event_base *base;
	struct conf *cfg;
	struct seal_registry *seals;
	struct rdma_event_channel *cm_chan;
	struct rdma_cm_id *listen_id;
	struct devwatch *devwatch;
	struct event *cm_ev;
	struct event *sig_ev[4];
	struct event *verify_ev;
	struct event *seal_ev;
	struct admin *admin; /* the admin socket, from server_listen on */
	struct export **exports;
	unsigned nexports;
	struct conn_list conns;
	unsigned nconns;
	uint64_t next_grant_id;
	uint64_t next_conn_serial;
	struct server_stats stats;
	int exit_code;
	int stopping;
};

/* The export of that name, NULL if none or removed by a reload. */
struct export *server_find_export(struct server *srv, const char *name);
/* Revokes every grant on exp on every connection; how many. */
unsigned server_revoke_export(struct server *srv, struct export *exp, uint32_t reason,
			      const char *text);
/* Removes conn from the list and frees it. */
void server_drop_conn(struct server *srv, struct conn *conn);

#endif
