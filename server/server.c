/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "admin.h"
#include "devwatch.h"
#include "fault.h"
#include "flush.h"
#include "log.h"
#include "place.h"
#include "server-internal.h"

#define SERVER_VERIFY_MS 1000
/* How long a stop waits for clients to take their REVOKEs and hang up. */
#define SERVER_STOP_MS 2000

static bool server_any_export_allows(const struct server *srv, const struct in_addr *addr)
{
	for (unsigned i = 0; i < srv->nexports; i++)
		if (!srv->exports[i]->removed && conf_client_allowed(&srv->exports[i]->cfg, addr))
			return true;
	return false;
}

/* Returns 1 when the id was handed to a connection, 0 when the caller destroys it. */
static int server_on_connect_request(struct server *srv, struct rdma_cm_id *id,
				     const struct rdma_conn_param *param)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);
	struct proto_conn_priv priv;
	struct proto_session_priv sp;
	char why[192], peer[INET6_ADDRSTRLEN] = "?";
	int rc;
	struct conn *c;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
	srv->stats.rejected++;
	if (srv->stopping) {
		conn_reject(id, ESHUTDOWN, "shutting down");
		return 0;
	}
	if (proto_conn_priv_decode(param->private_data, param->private_data_len, &priv)) {
		snprintf(why, sizeof(why), "%s: not a sealmr client (bad private data)", peer);
		conn_reject(id, EPROTO, why);
		return 0;
	}
	if (priv.version < PROTO_VERSION_MIN || priv.version > PROTO_VERSION) {
		snprintf(why, sizeof(why), "%s speaks protocol version %u, this daemon %u to %u",
			 peer, priv.version, PROTO_VERSION_MIN, PROTO_VERSION);
		conn_reject(id, EPROTONOSUPPORT, why);
		return 0;
	}
	/* A data QP joins its session: the session's checks were made when
	 * it opened, the token and address vouch for the rest. */
	if (priv.version >= 3 &&
	    proto_session_priv_decode(param->private_data, param->private_data_len, &sp) == 0 &&
	    sp.session) {
		srv->stats.rejected--;
		if (conn_data_join(&srv->conns, id, &sp))
			return 1;
		srv->stats.rejected++;
		return 0;
	}
	if (sa->sa_family != AF_INET ||
	    !server_any_export_allows(srv, &((struct sockaddr_in *)sa)->sin_addr)) {
		snprintf(why, sizeof(why), "%s is not in any export's clients list", peer);
		conn_reject(id, EACCES, why);
		return 0;
	}
	if (srv->nconns >= srv->cfg->max_clients) {
		snprintf(why, sizeof(why), "%s: max_clients (%u) reached", peer,
			 srv->cfg->max_clients);
		conn_reject(id, EUSERS, why);
		return 0;
	}
	rc = conn_new(srv, id, priv.version, priv.credits, &c);
	if (rc) {
		/* The client hears the real cause, not a blanket ENOMEM. */
		snprintf(why, sizeof(why), "%s: cannot set up the connection: %s (see above)", peer,
			 strerror(-rc));
		conn_reject(id, -rc > 0 && -rc < 4096 ? -rc : EIO, why);
		return 0;
	}
	srv->stats.rejected--;
	srv->stats.connections++;
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	return 1;
}

void server_drop_conn(struct server *srv, struct conn *c)
{
	LOG_INFO("client %s: gone (%u grants reclaimed)", c->peer, c->ngrants);
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	conn_delete(&c);
	if (srv->stopping && srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
}

/* A data QP's events: it lives until either side disconnects it. */
static void server_on_data_cm(struct conn_data *d, enum rdma_cm_event_type type)
{
	switch (type) {
	case RDMA_CM_EVENT_ESTABLISHED:
		conn_data_established(d);
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
		LOG_WARN("client %s: data QP %u: %s", d->conn->peer, d->index, rdma_event_str(type));
		/* fall through */
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		conn_data_delete(&d);
		break;
	default:
		break;
	}
}

static void server_on_cm(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct rdma_cm_event *ev;

	while (rdma_get_cm_event(srv->cm_chan, &ev) == 0) {
		/* Copy what is needed and ack at once: an id with unacked events
		 * cannot be destroyed. */
		enum rdma_cm_event_type type = ev->event;
		struct rdma_cm_id *id = ev->id;
		struct rdma_conn_param param = ev->param.conn;
		uint8_t priv[255]; /* private_data_len is a uint8_t */
		/* The listener's context is the server, and a new id inherits it:
		 * only the ids of connections point to a conn or conn_data. */
		void *ctx = id == srv->listen_id || type == RDMA_CM_EVENT_CONNECT_REQUEST
				    ? NULL : id->context;
		struct conn *c = ctx;
		struct conn_data *d = ctx;

		if (param.private_data)
			memcpy(priv, param.private_data, param.private_data_len);
		param.private_data = priv;
		rdma_ack_cm_event(ev);
		LOG_DEBUG("cm event %s", rdma_event_str(type));

		if (d && d->kind == CONN_EP_DATA) {
			server_on_data_cm(d, type);
			continue;
		}
		switch (type) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			if (!server_on_connect_request(srv, id, &param))
				rdma_destroy_id(id);
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			if (c)
				conn_drive(c, CONN_EV_ESTABLISHED, NULL);
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
			if (c) {
				conn_drive(c, CONN_EV_DISCONNECTED, type == RDMA_CM_EVENT_DISCONNECTED
								    ? NULL : rdma_event_str(type));
				server_drop_conn(srv, c);
			}
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			if (c) {
				conn_drive(c, CONN_EV_DISCONNECTED, "RDMA device removed");
				server_drop_conn(srv, c);
			} else {
				LOG_ERR("the RDMA device of the listener was removed; stopping");
				srv->exit_code = 1;
				event_base_loopbreak(srv->base);
			}
			break;
		default:
			break;
		}
	}
}

/*
 * Stopping runs inside the loop: every connection revokes its grants and
 * disconnects once its REVOKEs went out; the loop ends when the last one is
 * gone, or at the deadline for those that do not answer.
 */
static void server_stop(struct server *srv)
{
	struct timeval tv = { SERVER_STOP_MS / 1000, (SERVER_STOP_MS % 1000) * 1000 };
	struct conn *c;

	if (srv->stopping)
		return;
	srv->stopping = 1;
	/* Only the rdma_cm's DISCONNECTED frees a connection: the list holds. */
	TAILQ_FOREACH(c, &srv->conns, entry)
		conn_drive(c, CONN_EV_STOP, NULL);
	if (srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
	else
		event_base_loopexit(srv->base, &tv);
}

static void server_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	if (sig == SIGHUP) {
		LOG_NOTICE("SIGHUP: reloading %s", srv->cfg->file);
		server_reload(srv);
		return;
	}
	LOG_NOTICE("%s: shutting down", strsignal((int)sig));
	server_stop(srv);
}

static void server_on_seal_event(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	seal_registry_process(srv->seals);
}

static void server_on_verify(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	seal_registry_verify(srv->seals);
}

static void server_on_seal_changed(struct seal *seal, const char *why, void *arg)
{
	struct server *srv = arg;

	for (unsigned i = 0; i < srv->nexports; i++) {
		struct export *exp = srv->exports[i];
		char text[PROTO_TEXT_MAX];

		if (exp->seal != seal)
			continue;
		LOG_ERR("export '%s': %s changed under its seal: %s", exp->cfg.name,
			exp->cfg.path, why);
		snprintf(text, sizeof(text), "%s changed under the seal: %s", exp->cfg.path, why);
		server_revoke_export(srv, exp, PROTO_REVOKE_FILE_CHANGED, text);
	}
}

static int server_add_exports(struct server *srv, const struct conf *cfg)
{
	for (unsigned i = 0; i < cfg->nexports; i++) {
		struct export **tab, *exp;
		int rc;

		if (server_find_export(srv, cfg->exports[i].name))
			continue;
		tab = FAULT("server.export", ENOMEM)
			  ? NULL
			  : realloc(srv->exports, (srv->nexports + 1) * sizeof(*tab));
		rc = tab ? export_new(&cfg->exports[i], &exp) : -ENOMEM;
		if (tab)
			srv->exports = tab;
		if (rc) {
			LOG_ERR("export '%s': cannot set it up: %s", cfg->exports[i].name,
				strerror(-rc));
			return rc;
		}
		srv->exports[srv->nexports++] = exp;
		LOG_INFO("export '%s': %s, %llu bytes at %llu, %s, %s", exp->cfg.name,
			 exp->cfg.path, (unsigned long long)exp->cfg.size,
			 (unsigned long long)exp->cfg.offset, exp->cfg.writable ? "rw" : "ro",
			 exp->cfg.mode == SEAL_MODE_DAX ? "dax" : "pagecache");
	}
	return 0;
}

static bool server_export_same(const struct conf_export *a, const struct conf_export *b)
{
	return !strcmp(a->path, b->path) && a->offset == b->offset && a->size == b->size &&
	       a->writable == b->writable && a->mode == b->mode && a->reg == b->reg;
}

/* Frees exports that were removed and whose last grant went. */
static void server_gc_exports(struct server *srv)
{
	unsigned j = 0;

	for (unsigned i = 0; i < srv->nexports; i++) {
		if (srv->exports[i]->removed && srv->exports[i]->grants == 0)
			export_delete(&srv->exports[i]);
		else
			srv->exports[j++] = srv->exports[i];
	}
	srv->nexports = j;
}

int server_reload(struct server *srv)
{
	struct conf *cfg;
	char err[512];
	int rc = conf_new(srv->cfg->file, &cfg, err, sizeof(err));
	char fixed[1024];

	if (rc) {
		LOG_ERR("reload refused, keeping the running configuration: %s", err);
		return rc;
	}
	/* The listener, the seal journal, the admin socket, the pid file and
	 * the log's sink are the daemon's since its start: say so, rather
	 * than take the new values into a configuration nobody rereads. */
	if (conf_fixed_diff(&srv->cfg->fixed, &cfg->fixed, fixed, sizeof(fixed)))
		LOG_WARN("reload: %s: these take a restart of sealmrd; the running values stay, "
			 "the rest of the file is applied", fixed);
	conf_fixed_swap(&srv->cfg->fixed, &cfg->fixed);
	for (unsigned i = 0; i < srv->nexports; i++) {
		struct export *exp = srv->exports[i];
		const struct conf_export *now = conf_find_export(cfg, exp->cfg.name);

		if (exp->removed)
			continue;
		if (now && server_export_same(&exp->cfg, now)) {
			/* Client lists may change without touching grants. */
			memcpy(exp->cfg.clients, now->clients, sizeof(now->clients));
			exp->cfg.nclients = now->nclients;
			continue;
		}
		LOG_NOTICE("export '%s': %s by the reload", exp->cfg.name,
			   now ? "changed" : "removed");
		server_revoke_export(srv, exp, PROTO_REVOKE_EXPORT_REMOVED,
				     now ? "export changed by a configuration reload"
					 : "export removed by a configuration reload");
		exp->removed = true;
	}
	server_gc_exports(srv);
	rc = server_add_exports(srv, cfg);
	log_set_threshold(cfg->log_level);
	free(cfg->file);
	cfg->file = srv->cfg->file;
	srv->cfg->file = NULL;
	conf_delete(&srv->cfg);
	srv->cfg = cfg;
	LOG_NOTICE("reloaded: %u exports", srv->nexports);
	return rc;
}

static int server_add_events(struct server *srv)
{
	static const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	struct timeval tv = { SERVER_VERIFY_MS / 1000, (SERVER_VERIFY_MS % 1000) * 1000 };

	for (int i = 0; i < 4; i++) {
		srv->sig_ev[i] = evsignal_new(srv->base, sigs[i], server_on_signal, srv);
		if (!srv->sig_ev[i] || event_add(srv->sig_ev[i], NULL))
			return -ENOMEM;
	}
	srv->seal_ev = FAULT("server.seal_event", ENOMEM)
			   ? NULL
			   : event_new(srv->base, seal_registry_fd(srv->seals),
				       EV_READ | EV_PERSIST, server_on_seal_event, srv);
	srv->verify_ev = FAULT("server.verify_event", ENOMEM)
			     ? NULL
			     : event_new(srv->base, -1, EV_PERSIST, server_on_verify, srv);
	if (!srv->seal_ev || !srv->verify_ev || event_add(srv->seal_ev, NULL) ||
	    event_add(srv->verify_ev, &tv))
		return -ENOMEM;
	return 0;
}

int server_new(struct conf *cfg, struct server **out)
{
	struct server *srv = FAULT("server.new", ENOMEM) ? NULL : calloc(1, sizeof(*srv));
	char err[512];
	int rc;

	if (!srv) {
		LOG_ERR("cannot start: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	srv->cfg = cfg;
	TAILQ_INIT(&srv->conns);
	srv->base = event_base_new();
	if (!srv->base) {
		rc = -ENOMEM;
		LOG_ERR("cannot start: event_base_new: %s", strerror(ENOMEM));
		goto err_delete;
	}
	rc = seal_registry_new(cfg->fixed.state_dir, &srv->seals, err, sizeof(err));
	if (rc) {
		LOG_ERR("%s", err);
		goto err_delete;
	}
	seal_registry_set_changed_cb(srv->seals, server_on_seal_changed, srv);
	rc = server_add_exports(srv, cfg);
	if (rc)
		goto err_delete;
	rc = server_add_events(srv);
	if (rc) {
		LOG_ERR("cannot start: signal, seal and timer events: %s", strerror(-rc));
		goto err_delete;
	}
	*out = srv;
	return 0;

err_delete:
	srv->cfg = NULL; /* still the caller's */
	server_delete(&srv);
	return rc;
}

struct server_libs {
	char verbs[PATH_MAX];
	char provider[PATH_MAX];
};

static int server_find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct server_libs *l = arg;
	const char *base = strrchr(info->dlpi_name, '/');

	base = base ? base + 1 : info->dlpi_name;
	if (!strncmp(base, "libibverbs.so", 13))
		snprintf(l->verbs, sizeof(l->verbs), "%s", info->dlpi_name);
	else if (!strncmp(base, "librxe-rdmav", 12))
		snprintf(l->provider, sizeof(l->provider), "%s", info->dlpi_name);
	return 0;
}

/* Which rdma-core serves: with two on a host (configure --with-rdma-core),
 * the log says whose libibverbs and Soft-RoCE provider were loaded (rdma-core
 * 44 loads every provider it has, 65 those of the devices there). */
static void server_log_rdma_core(void)
{
	struct server_libs l = { "", "" };

	dl_iterate_phdr(server_find_lib, &l);
	LOG_INFO("rdma-core: %s, provider %s", l.verbs[0] ? l.verbs : "libibverbs (static?)",
		 l.provider[0] ? l.provider : "rxe not loaded");
}

/* Said once a device, like placement: what a durable write costs there. */
static void server_log_flush(struct ibv_context *verbs)
{
	char why[160] = "";
	unsigned caps = flush_caps_of(verbs, why, sizeof(why));

	if (caps & FLUSH_CAP_ODP)
		LOG_INFO("%s: native RDMA FLUSH to fs-dax exports: yes (persistent placement, "
			 "on-demand-paging regions too)", ibv_get_device_name(verbs->device));
	else
		LOG_INFO("%s: native RDMA FLUSH to fs-dax exports: %s (%s); writes are made "
			 "durable by COMMIT", ibv_get_device_name(verbs->device),
			 caps ? "pinned regions only" : "no", why);
}

static int server_check_device(struct ibv_context *verbs)
{
	struct ibv_device_attr_ex attr = { 0 };
	uint32_t need = IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_WRITE;

	if (FAULT("server.query", ENOMEM) || ibv_query_device_ex(verbs, NULL, &attr)) {
		LOG_WARN("%s: cannot query the device", ibv_get_device_name(verbs->device));
		return 0;
	}
	if (!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT) ||
	    (attr.odp_caps.per_transport_caps.rc_odp_caps & need) != need) {
		LOG_WARN("%s: no on-demand paging for RC READ/WRITE: fs-dax and page-cache "
			 "exports cannot be registered on it (only tmpfs pins)",
			 ibv_get_device_name(verbs->device));
		return 0;
	}
	LOG_INFO("%s: on-demand paging for RC read/write: yes",
		 ibv_get_device_name(verbs->device));
	server_log_flush(verbs);
	if (place_of_odp(verbs) == PROTO_PLACE_PAGE)
		LOG_NOTICE("%s: puts a packet that starts mid-page at its page's start in an "
			   "on-demand-paging region: grants say so (page placement), and protocol "
			   "version 2 clients send such bytes through the daemon",
			   ibv_get_device_name(verbs->device));
	return 1;
}

/* The listener on the configured address. 0 or -errno (logged). */
static int server_listen_id(struct server *srv)
{
	struct conf *cfg = srv->cfg;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_flags = AI_PASSIVE }, *ai;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", cfg->fixed.listen_port);
	rc = getaddrinfo(cfg->fixed.listen_host, port, &hints, &ai);
	if (rc) {
		LOG_ERR("listen = %s:%s: %s", cfg->fixed.listen_host, port, gai_strerror(rc));
		return -EINVAL;
	}
	if (FAULT("server.create_id", ENOMEM) ||
	    rdma_create_id(srv->cm_chan, &srv->listen_id, srv, RDMA_PS_TCP)) {
		rc = -errno;
		LOG_ERR("rdma_create_id: %s", strerror(errno));
		goto err_free_ai;
	}
	if (FAULT("server.bind", EIO) || rdma_bind_addr(srv->listen_id, ai->ai_addr)) {
		rc = -errno;
		LOG_ERR("rdma_bind_addr(%s:%s): %s (no RDMA device on that address? "
			"rdma link add rxe0 type rxe netdev IFACE makes one)",
			cfg->fixed.listen_host, port, strerror(errno));
		goto err_destroy_id;
	}
	if (FAULT("server.listen", EIO) || rdma_listen(srv->listen_id, 64)) {
		rc = -errno;
		LOG_ERR("rdma_listen(%s:%s): %s", cfg->fixed.listen_host, port, strerror(errno));
		goto err_destroy_id;
	}
	freeaddrinfo(ai);
	return 0;

err_destroy_id:
	rdma_destroy_id(srv->listen_id);
	srv->listen_id = NULL;
err_free_ai:
	freeaddrinfo(ai);
	return rc;
}

int server_listen(struct server *srv)
{
	struct conf *cfg = srv->cfg;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", cfg->fixed.listen_port);
	srv->cm_chan = FAULT("server.cm_channel", ENOMEM) ? NULL : rdma_create_event_channel();
	if (!srv->cm_chan) {
		LOG_ERR("rdma_create_event_channel: %s (is rdma_ucm loaded, /dev/infiniband/rdma_cm there?)",
			strerror(errno));
		return -errno;
	}
	if (fcntl(srv->cm_chan->fd, F_SETFL, fcntl(srv->cm_chan->fd, F_GETFL) | O_NONBLOCK)) {
		LOG_ERR("cannot start: the rdma_cm channel: fcntl: %s", strerror(errno));
		return -errno;
	}
	rc = server_listen_id(srv);
	if (rc)
		return rc;
	server_log_rdma_core();
	rc = devwatch_new(srv->base, &srv->devwatch);
	if (rc) {
		LOG_ERR("cannot start: watching RDMA devices: %s", strerror(-rc));
		return rc;
	}
	if (srv->listen_id->verbs)
		server_check_device(srv->listen_id->verbs);
	srv->cm_ev =
	    FAULT("server.cm_event", ENOMEM)
		? NULL
		: event_new(srv->base, srv->cm_chan->fd, EV_READ | EV_PERSIST, server_on_cm, srv);
	if (!srv->cm_ev || event_add(srv->cm_ev, NULL)) {
		LOG_ERR("cannot start: the rdma_cm event: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* Before "listening on": whoever waits for that line may use it. */
	rc = admin_new(srv, srv->base, srv->cfg->fixed.admin_socket, &srv->admin);
	if (rc) {
		LOG_ERR("cannot start: admin socket %s: %s", srv->cfg->fixed.admin_socket,
			strerror(-rc));
		return rc;
	}
	LOG_NOTICE("listening on %s:%s%s%s%s, %u exports", cfg->fixed.listen_host, port,
		   srv->listen_id->verbs ? " (" : "",
		   srv->listen_id->verbs ? ibv_get_device_name(srv->listen_id->verbs->device) : "",
		   srv->listen_id->verbs ? ")" : "", srv->nexports);
	return 0;
}

int server_run(struct server *srv)
{
	event_base_dispatch(srv->base);
	return srv->exit_code;
}

/* What a stop (or a failed start) left: no loop runs any more. */
static void server_drop_conns(struct server *srv)
{
	struct conn *c;

	if (srv->nconns)
		LOG_NOTICE("%u clients did not hang up within %d ms: dropped", srv->nconns,
			   SERVER_STOP_MS);
	while ((c = TAILQ_FIRST(&srv->conns))) {
		conn_revoke_export(c, NULL, PROTO_REVOKE_SHUTDOWN, "sealmrd is shutting down");
		server_drop_conn(srv, c);
	}
}

void server_delete(struct server **psrv)
{
	struct server *srv = *psrv;

	if (!srv)
		return;
	srv->stopping = 1;
	admin_delete(&srv->admin);
	devwatch_delete(&srv->devwatch);
	if (srv->cm_ev)
		event_free(srv->cm_ev);
	if (srv->listen_id)
		rdma_destroy_id(srv->listen_id);
	server_drop_conns(srv);
	for (unsigned i = 0; i < srv->nexports; i++)
		export_delete(&srv->exports[i]);
	free(srv->exports);
	if (srv->cm_chan)
		rdma_destroy_event_channel(srv->cm_chan);
	for (int i = 0; i < 4; i++)
		if (srv->sig_ev[i])
			event_free(srv->sig_ev[i]);
	if (srv->seal_ev)
		event_free(srv->seal_ev);
	if (srv->verify_ev)
		event_free(srv->verify_ev);
	seal_registry_delete(&srv->seals);
	if (srv->base)
		event_base_free(srv->base);
	conf_delete(&srv->cfg);
	free(srv);
	*psrv = NULL;
}
