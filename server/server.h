/* SPDX-License-Identifier: MIT */
/*
 * server: the daemon's one event loop and what hangs off it: the rdma_cm
 * listener, the connections, the exports, the seal registry, signals and
 * timers.
 */
#ifndef SEALMR_SERVER_H
#define SEALMR_SERVER_H

#include <event2/event.h>
#include <rdma/rdma_cma.h>

#include "conf.h"
#include "conn.h"
#include "export.h"
#include "seal.h"

struct admin;

struct server_stats {
	uint64_t connections;
	uint64_t rejected;
	uint64_t grants;
	uint64_t revokes;
	uint64_t errors;
	uint64_t bad_messages;
	uint64_t commits;
	uint64_t seals;
	uint64_t small_writes; /* WRITE_SMALL_REQs served */
	uint64_t small_reads;  /* READ_SMALL_REQs served */
	/* Where an open and a close spend the daemon's time (ns, summed over
	 * `grants` opens and `closes` closes): bench/run's grant timeline. */
	uint64_t open_ns_checks;   /* request to the export held: checks, seal */
	uint64_t open_ns_register; /* grant_new: ibv_reg_mr */
	uint64_t open_ns_reply;    /* the GRANT built and posted */
	uint64_t closes;
	uint64_t close_ns_deregister; /* grant_delete: ibv_dereg_mr */
};

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

int server_new(struct conf *cfg, struct server **out);
/* Revokes every grant, disconnects every client, lifts every seal. */
void server_delete(struct server **srv);
/* Binds and listens, on RDMA and on the admin socket; 0 or -errno (logged). */
int server_listen(struct server *srv);
int server_run(struct server *srv);

/* The export of that name, NULL if none or removed by a reload (sweep.c). */
struct export *server_find_export(struct server *srv, const char *name);
/* Revokes every grant on exp on every connection; how many (sweep.c). */
unsigned server_revoke_export(struct server *srv, struct export *exp, uint32_t reason,
			      const char *text);
/* Removes conn from the list and frees it. */
void server_drop_conn(struct server *srv, struct conn *conn);
/* Re-reads the configuration file: new exports appear, removed ones are revoked. */
int server_reload(struct server *srv);

#endif
