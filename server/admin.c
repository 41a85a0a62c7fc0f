/* SPDX-License-Identifier: MIT */
/*
 * admin: the local control socket, its file and its clients. A libevent
 * listener and a bufferevent per admin client on the daemon's one loop, so
 * that a client that stops reading holds up nothing but itself. Lines go to
 * admin-req.c; its replies come back here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>

#include "admin.h"
#include "util.h"
#include "admin-req.h"
#include "fault.h"
#include "log.h"
#include "server.h"

#define ADMIN_OUT_MAX (16u << 20) /* unread replies before a client is dropped */
#define ADMIN_CLIENTS_MAX 16
#define ADMIN_BACKLOG 16
#define ADMIN_ACCEPT_PAUSE_MS 1000

struct admin_client {
	TAILQ_ENTRY(admin_client) entry;
	struct admin *adm;
	struct bufferevent *bev;
	char who[48];    /* "pid 123 uid 0", for the log */
	bool closing;    /* the peer sent EOF: freed once its replies are out */
	bool discarding; /* inside an over-long line: skip to its end */
};
TAILQ_HEAD(admin_client_list, admin_client);

struct admin {
	struct server *srv;
	struct event_base *base;
	char *path;
	dev_t dev; /* of the socket this daemon made: only that one is unlinked */
	ino_t ino;
	struct evconnlistener *lev;
	struct event *pause_ev; /* accepting again after EMFILE and the like */
	struct admin_client_list clients;
	unsigned nclients;
	uint64_t started_ns;
};

static void admin_client_free(struct admin_client *cl)
{
	struct admin *adm = cl->adm;

	LOG_DEBUG("admin (%s): gone", cl->who);
	TAILQ_REMOVE(&adm->clients, cl, entry);
	adm->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

/* Queues reply (and takes it). 0, or -errno when the client was dropped. */
static int admin_send(struct admin_client *cl, json_object *reply)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);
	const char *s = reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE)
			      : NULL;
	int rc = 0;

	if (!s || evbuffer_add(out, s, strlen(s)) || evbuffer_add(out, "\n", 1)) {
		LOG_ERR("admin (%s): out of memory for a reply; dropping the client", cl->who);
		rc = -ENOMEM;
	} else if (evbuffer_get_length(out) > ADMIN_OUT_MAX) {
		LOG_WARN("admin (%s): %zu bytes of replies unread; dropping the client", cl->who,
			 evbuffer_get_length(out));
		rc = -ENOBUFS;
	}
	json_object_put(reply);
	if (rc)
		admin_client_free(cl);
	return rc;
}

/* One request line. 0, or -errno when the client was dropped. */
static int admin_on_line(struct admin_client *cl, const char *line, size_t len)
{
	struct admin_req_ctx ctx = { cl->adm->srv, cl->adm->started_ns, cl->who };
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len)
		return 0; /* blank lines are no requests: no reply */
	return admin_send(cl, admin_req_run(&ctx, line, len));
}

static void admin_on_read(struct bufferevent *bev, void *arg)
{
	struct admin_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		int rc = 0;

		if (cl->discarding)
			cl->discarding = false; /* the end of the long line */
		else
			rc = admin_on_line(cl, line, len);
		free(line);
		if (rc)
			return;
	}
	len = evbuffer_get_length(in);
	if (len > ADMIN_LINE_MAX && !cl->discarding) {
		char err[64];

		snprintf(err, sizeof(err), "request longer than %d bytes", ADMIN_LINE_MAX);
		LOG_INFO("admin (%s): request refused: %s", cl->who, err);
		if (admin_send(cl, admin_req_error(err)))
			return;
		cl->discarding = true;
	}
	if (cl->discarding)
		evbuffer_drain(in, len);
}

static void admin_on_write(struct bufferevent *bev, void *arg)
{
	struct admin_client *cl = arg;

	if (cl->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		admin_client_free(cl);
}

static void admin_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct admin_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (what & BEV_EVENT_ERROR) {
		LOG_DEBUG("admin (%s): %s", cl->who, strerror(EVUTIL_SOCKET_ERROR()));
		admin_client_free(cl);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	/* A last request without its newline still counts. */
	if (!cl->discarding && evbuffer_get_length(in)) {
		size_t len = evbuffer_get_length(in);
		char *line = (char *)evbuffer_pullup(in, -1);
		int rc = line ? admin_on_line(cl, line, len) : 0;

		if (rc)
			return;
		evbuffer_drain(in, len);
	}
	/* The peer may only have shut down its sending side: its replies
	 * still go out before the client is freed. */
	cl->closing = true;
	bufferevent_disable(bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		admin_client_free(cl);
}

static void admin_refuse(int fd, const char *why)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "{\"ok\":false,\"error\":\"%s\"}\n", why);

	/* A fresh socket's send buffer takes one short line: never blocks. */
	if (write(fd, line, (size_t)n) < 0)
		LOG_DEBUG("admin: refusing a client: %s", strerror(errno));
	close(fd);
}

static void admin_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			    int salen, void *arg)
{
	struct admin *adm = arg;
	struct admin_client *cl;
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (adm->nclients >= ADMIN_CLIENTS_MAX) {
		LOG_WARN("admin: %d clients already; refusing another", ADMIN_CLIENTS_MAX);
		admin_refuse(fd, "too many admin connections");
		return;
	}
	cl = FAULT("admin.client", ENOMEM) ? NULL : calloc(1, sizeof(*cl));
	if (!cl) {
		LOG_ERR("admin: cannot take a client: %s", strerror(errno));
		admin_refuse(fd, "out of memory");
		return;
	}
	cl->adm = adm;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		snprintf(cl->who, sizeof(cl->who), "pid %ld uid %u", (long)cred.pid, cred.uid);
	else
		snprintf(cl->who, sizeof(cl->who), "fd %d", fd);
	cl->bev = bufferevent_socket_new(adm->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev || bufferevent_enable(cl->bev, EV_READ | EV_WRITE)) {
		LOG_ERR("admin (%s): cannot set up its buffers; dropped", cl->who);
		if (cl->bev)
			bufferevent_free(cl->bev);
		else
			close(fd);
		free(cl);
		return;
	}
	bufferevent_setcb(cl->bev, admin_on_read, admin_on_write, admin_on_event, cl);
	TAILQ_INSERT_TAIL(&adm->clients, cl, entry);
	adm->nclients++;
	LOG_DEBUG("admin (%s): connected", cl->who);
}

/* Out of descriptors, say: pause rather than spin on a readable listener. */
static void admin_on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct admin *adm = arg;
	struct timeval tv = { ADMIN_ACCEPT_PAUSE_MS / 1000, (ADMIN_ACCEPT_PAUSE_MS % 1000) * 1000 };

	LOG_WARN("admin socket %s: accept: %s; pausing for %d ms", adm->path,
		 strerror(EVUTIL_SOCKET_ERROR()), ADMIN_ACCEPT_PAUSE_MS);
	evconnlistener_disable(lev);
	event_add(adm->pause_ev, &tv);
}

static void admin_on_pause_end(evutil_socket_t fd, short what, void *arg)
{
	struct admin *adm = arg;

	evconnlistener_enable(adm->lev);
}

/* The socket's directory and its parents, 0755 like /run's. */
static int admin_make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], failed[sizeof(dir)];
	char *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	rc = util_mkdirs(dir, 0755, failed, sizeof(failed));
	if (rc)
		LOG_ERR("admin_socket = %s: cannot create %s: %s", path, failed, strerror(-rc));
	return rc;
}

/* A socket nobody answers on was left by a dead daemon: remove it. */
static int admin_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		LOG_ERR("admin_socket = %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		LOG_ERR("admin_socket = %s: exists and is not a socket; move it away or set "
			"another admin_socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ? -errno : 0;
	close(fd);
	if (rc == 0 || rc == -EAGAIN || rc == -EINPROGRESS) {
		LOG_ERR("admin_socket = %s: another process answers there (a running sealmrd?); "
			"stop it or set another admin_socket", path);
		return -EADDRINUSE;
	}
	if (rc != -ECONNREFUSED) {
		LOG_ERR("admin_socket = %s: cannot tell whether it is in use: %s", path,
			strerror(-rc));
		return rc;
	}
	if (unlink(path) && errno != ENOENT) {
		LOG_ERR("admin_socket = %s: cannot remove the stale socket: %s", path,
			strerror(errno));
		return -errno;
	}
	LOG_NOTICE("admin_socket = %s: removed the stale socket of an earlier run", path);
	return 0;
}

static int admin_listen(struct admin *adm)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t mask;
	int fd, rc;

	if (strlen(adm->path) >= sizeof(sun.sun_path)) {
		LOG_ERR("admin_socket = %s: longer than the %zu bytes a socket path may have",
			adm->path, sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, adm->path, strlen(adm->path) + 1);
	rc = admin_make_parent(adm->path);
	if (!rc)
		rc = admin_clear_stale(adm->path, &sun);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		LOG_ERR("admin socket: socket(AF_UNIX): %s", strerror(errno));
		return -errno;
	}
	/* Born 0600: no moment when another user could connect. */
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(mask);
	if (rc) {
		LOG_ERR("admin_socket = %s: bind: %s", adm->path, strerror(-rc));
		goto err_close;
	}
	if (chmod(adm->path, 0600) || stat(adm->path, &st) || listen(fd, ADMIN_BACKLOG)) {
		rc = -errno;
		LOG_ERR("admin_socket = %s: %s", adm->path, strerror(errno));
		goto err_unlink;
	}
	adm->dev = st.st_dev;
	adm->ino = st.st_ino;
	/* Backlog 0: listen() was called above. */
	adm->lev = FAULT("admin.listen", ENOMEM)
		       ? NULL
		       : evconnlistener_new(adm->base, admin_on_accept, adm,
					    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!adm->lev) {
		rc = -ENOMEM;
		goto err_unlink;
	}
	evconnlistener_set_error_cb(adm->lev, admin_on_accept_error);
	return 0;

err_unlink:
	unlink(adm->path);
err_close:
	close(fd);
	return rc;
}

int admin_new(struct server *srv, struct event_base *base, const char *path,
	      struct admin **out)
{
	struct admin *adm = FAULT("admin.new", ENOMEM) ? NULL : calloc(1, sizeof(*adm));
	int rc;

	if (!adm)
		return -ENOMEM;
	adm->srv = srv;
	adm->base = base;
	adm->started_ns = util_now_ns();
	TAILQ_INIT(&adm->clients);
	/* A copy: a reload replaces the configuration, not the socket. */
	adm->path = FAULT("admin.path", ENOMEM) ? NULL : strdup(path);
	adm->pause_ev = evtimer_new(base, admin_on_pause_end, adm);
	if (!adm->path || !adm->pause_ev) {
		rc = -ENOMEM;
		goto err_delete;
	}
	rc = admin_listen(adm);
	if (rc)
		goto err_delete;
	LOG_INFO("admin socket %s", adm->path);
	*out = adm;
	return 0;

err_delete:
	admin_delete(&adm);
	return rc;
}

void admin_delete(struct admin **padm)
{
	struct admin *adm = *padm;
	struct admin_client *cl;
	struct stat st;

	if (!adm)
		return;
	while ((cl = TAILQ_FIRST(&adm->clients)))
		admin_client_free(cl);
	if (adm->lev) {
		evconnlistener_free(adm->lev);
		/* Only ours: a second daemon may have replaced it since. */
		if (lstat(adm->path, &st) == 0 && st.st_dev == adm->dev && st.st_ino == adm->ino)
			unlink(adm->path);
	}
	if (adm->pause_ev)
		event_free(adm->pause_ev);
	free(adm->path);
	free(adm);
	*padm = NULL;
}
