/* SPDX-License-Identifier: MIT */
/*
 * sealmrd: serves sealed ranges of persistent files to RDMA clients.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "server.h"

#define SEALMRD_DEFAULT_CONF "/etc/sealmr/sealmrd.conf"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: sealmrd [-c FILE] [-d] [-p PIDFILE] [-t] [-v] [-h]\n"
		"  -c FILE     configuration (default " SEALMRD_DEFAULT_CONF ")\n"
		"  -d          detach and run in the background (default: foreground)\n"
		"  -p PIDFILE  write the daemon's pid there (with -d; default pid_file in FILE)\n"
		"  -t          check the configuration and exit\n"
		"  -v          log at debug level\n"
		"exit status: 0 clean stop, 1 runtime failure, 2 bad usage or configuration\n");
}

/* systemd Type=notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void sealmrd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	strcpy(sun.sun_path, path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun, len) < 0)
		LOG_WARN("sd_notify(%s): %s", state, strerror(errno));
	close(fd);
}

static void sealmrd_check_memlock(const struct conf *cfg)
{
	struct rlimit rl;

	for (unsigned i = 0; i < cfg->nexports; i++) {
		const struct conf_export *e = &cfg->exports[i];

		if (e->reg != CONF_REG_PINNED && e->mode == SEAL_MODE_DAX)
			continue;
		if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < e->size)
			LOG_WARN("export '%s' may be pinned but RLIMIT_MEMLOCK is %llu bytes: "
				 "raise it (ulimit -l, LimitMEMLOCK=) or registration fails",
				 e->name, (unsigned long long)rl.rlim_cur);
		return;
	}
}

static int sealmrd_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (!fp) {
		LOG_ERR("pid file %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
	return 0;
}

static int sealmrd_prepare_state(const struct conf *cfg)
{
	if (mkdir(cfg->state_dir, 0700) && errno != EEXIST) {
		LOG_ERR("state_dir %s: %s", cfg->state_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *file = SEALMRD_DEFAULT_CONF, *pidfile = NULL;
	int detach = 0, check = 0, verbose = 0, opt, rc;
	struct server *srv = NULL;
	struct conf *cfg;
	char err[512];

	while ((opt = getopt(argc, argv, "c:dp:tvh")) != -1) {
		switch (opt) {
		case 'c': file = optarg; break;
		case 'd': detach = 1; break;
		case 'p': pidfile = optarg; break;
		case 't': check = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("sealmrd", LOG_LEVEL_NOTICE, 0);
	rc = conf_new(file, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sealmrd: %s\n", err);
		return 2;
	}
	if (check) {
		printf("%s: ok, %u exports\n", file, cfg->nexports);
		conf_delete(&cfg);
		return 0;
	}
	log_init("sealmrd", verbose ? LOG_LEVEL_DEBUG : cfg->log_level, cfg->log_syslog);
	if (!pidfile)
		pidfile = cfg->pid_file;
	sealmrd_check_memlock(cfg);
	signal(SIGPIPE, SIG_IGN);
	if (sealmrd_prepare_state(cfg) || server_new(cfg, &srv)) {
		conf_delete(&cfg);
		return 1;
	}
	if (server_listen(srv))
		goto err_delete;
	if (detach) {
		if (daemon(0, 0)) {
			LOG_ERR("daemon: %s", strerror(errno));
			goto err_delete;
		}
		/* libevent's backend (epoll) does not survive a fork as is. */
		if (event_reinit(srv->base))
			LOG_WARN("event_reinit failed");
	}
	if (pidfile && sealmrd_pidfile(pidfile))
		goto err_delete;
	sealmrd_notify("READY=1");
	rc = server_run(srv);
	sealmrd_notify("STOPPING=1");
	server_delete(&srv);
	if (pidfile)
		unlink(pidfile);
	LOG_NOTICE("stopped");
	return rc;

err_delete:
	server_delete(&srv);
	return 1;
}
