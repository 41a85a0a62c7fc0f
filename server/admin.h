/* SPDX-License-Identifier: MIT */
/*
 * admin: the daemon's local control socket. A Unix stream socket (mode
 * 0600) at the configuration's admin_socket, served from the daemon's one
 * event loop: one JSON request per line, one JSON reply per line, as
 * server/ADMIN.md says. sealmrctl is its client.
 */
#ifndef SEALMR_ADMIN_H
#define SEALMR_ADMIN_H

struct event_base;
struct server;
struct admin;

/*
 * Creates the socket at path (and its parent directories, 0755), replacing
 * a stale socket left by a dead daemon but never a live one or anything
 * that is not a socket, and serves srv's requests on it from base. 0 or
 * -errno, with the cause logged.
 */
int admin_new(struct server *srv, struct event_base *base, const char *path,
	      struct admin **out);
/* Drops the admin clients, closes and unlinks the socket. NULL is fine. */
void admin_delete(struct admin **adm);

#endif
