/* SPDX-License-Identifier: MIT */
/*
 * server: the daemon's one event loop and what hangs off it: the rdma_cm
 * listener, the connections, the exports, the seal registry, signals and
 * timers. Opaque here; its state is the daemon core's (server-internal.h).
 */
#ifndef SEALMR_SERVER_H
#define SEALMR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

struct server;

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

int server_new(struct conf *cfg, struct server **out);
/* Revokes every grant, disconnects every client, lifts every seal. */
void server_delete(struct server **srv);
/* Binds and listens, on RDMA and on the admin socket; 0 or -errno (logged). */
int server_listen(struct server *srv);
int server_run(struct server *srv);
/* Re-reads the configuration file: new exports appear, removed ones are revoked. */
int server_reload(struct server *srv);

/*
 * What the admin requests read of the daemon (view.c): a view of each
 * export, client or grant in turn, filled for the call and valid during it;
 * never the daemon's own structures.
 */
struct server_export_view {
	const char *name;
	const char *path;
	uint64_t offset;
	uint64_t size;
	bool writable;
	bool dax;
	bool sealed;
	bool removed;      /* by a reload; gone with its last grant */
	const char *reg;   /* "odp" or "pinned", decided by the seal: NULL before */
	unsigned grants;
	uint64_t commits;
	const struct conf_cidr *clients;
	unsigned nclients; /* 0: everyone */
};

struct server_client_view {
	const char *address; /* IP:PORT */
	uint64_t serial;
	const char *state;
	unsigned grants;
	unsigned qps;          /* data QPs joined */
	uint64_t connected_ns; /* 0: accepted, not yet established */
};

struct server_grant_view {
	uint64_t id;
	const char *client;
	uint64_t client_serial;
	const char *export;
	uint64_t offset;
	uint64_t length;
	bool writable;
	uint64_t created_ns;
};

struct server_totals {
	unsigned connections;
	unsigned grants;
	unsigned seals;
	unsigned exports; /* not removed */
};

void server_each_export(struct server *srv,
			void (*fn)(const struct server_export_view *v, void *arg), void *arg);
void server_each_client(struct server *srv,
			void (*fn)(const struct server_client_view *v, void *arg), void *arg);
void server_each_grant(struct server *srv,
		       void (*fn)(const struct server_grant_view *v, void *arg), void *arg);
const struct server_stats *server_get_stats(const struct server *srv);
void server_get_totals(const struct server *srv, struct server_totals *out);

/*
 * The administrator's revocations: the grant of that id; every grant of
 * the clients at an address ("10.0.2.15" every connection from that host,
 * "10.0.2.15:40102" one); every grant on the export of that name. How many
 * grants went (each client told), or -ENOENT when nothing has that name.
 */
int server_revoke_grant_id(struct server *srv, uint64_t id, uint32_t reason, const char *text);
int server_revoke_client(struct server *srv, const char *address, uint32_t reason,
			 const char *text);
int server_revoke_export_name(struct server *srv, const char *name, uint32_t reason,
			      const char *text);

#endif
