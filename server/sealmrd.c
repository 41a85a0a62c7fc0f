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
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "fault.h"
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
	if (mkdir(cfg->fixed.state_dir, 0700) && errno != EEXIST) {
		LOG_ERR("state_dir %s: %s", cfg->fixed.state_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * -d: detach before any device, listener or event base exists (their file
 * descriptors and epoll state do not belong across a fork), but keep the
 * caller waiting until the daemon is ready: the parent exits 0 when the
 * child writes its ready byte, or with the child's status when it dies
 * first, its errors already on the caller's standard error.
 */
static int sealmrd_detach(int *ready_fd)
{
	int p[2], st;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0) {
		LOG_ERR("-d: pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		LOG_ERR("-d: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			_exit(0);
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st))
			_exit(WEXITSTATUS(st));
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		LOG_WARN("-d: setsid: %s", strerror(errno));
	*ready_fd = p[1];
	return 0;
}

/* Ready: the waiting parent goes, and the terminal with it. */
static void sealmrd_detached(int ready_fd)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "r", 1) != 1)
		LOG_WARN("-d: telling the parent: %s", strerror(errno));
	close(ready_fd);
}

int main(int argc, char **argv)
{
	const char *file = SEALMRD_DEFAULT_CONF;
	int detach = 0, check = 0, verbose = 0, opt, rc = 1, ready_fd = -1;
	const char *pid_arg = NULL;
	char *pidfile = NULL, *conf_path = NULL;
	struct server *srv = NULL;
	struct conf *cfg;
	char err[512];

	while ((opt = getopt(argc, argv, "c:dp:tvh")) != -1) {
		switch (opt) {
		case 'c': file = optarg; break;
		case 'd': detach = 1; break;
		case 'p':
			pid_arg = optarg;
			break;
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
	/* A detached daemon works in /: a reload must still find the file. */
	if (detach && file[0] != '/' && (conf_path = realpath(file, NULL)))
		file = conf_path;
	rc = conf_new(file, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sealmrd: %s\n", err);
		rc = 2;
		goto out_free;
	}
	if (check) {
		printf("%s: ok, %u exports\n", file, cfg->nexports);
		conf_delete(&cfg);
		rc = 0;
		goto out_free;
	}
	log_init("sealmrd", verbose ? LOG_LEVEL_DEBUG : cfg->log_level, cfg->fixed.log_syslog);
	rc = 1;
	/* Our own copy: a reload frees the configuration it would point into. */
	if (!pid_arg)
		pid_arg = cfg->fixed.pid_file;
	if (pid_arg && !(pidfile = FAULT("sealmrd.pidfile", ENOMEM) ? NULL : strdup(pid_arg))) {
		LOG_ERR("pid file %s: %s", pid_arg, strerror(errno));
		conf_delete(&cfg);
		goto out_free;
	}
	if (detach && (sealmrd_detach(&ready_fd) || chdir("/"))) {
		conf_delete(&cfg);
		goto out_free;
	}
	sealmrd_check_memlock(cfg);
	signal(SIGPIPE, SIG_IGN);
	if (sealmrd_prepare_state(cfg) || server_new(cfg, &srv)) {
		conf_delete(&cfg);
		goto out_free;
	}
	if (server_listen(srv))
		goto out_delete;
	if (pidfile && sealmrd_pidfile(pidfile))
		goto out_delete;
	sealmrd_notify("READY=1");
	if (ready_fd >= 0)
		sealmrd_detached(ready_fd);
	rc = server_run(srv);
	sealmrd_notify("STOPPING=1");
	server_delete(&srv);
	if (pidfile && unlink(pidfile) < 0)
		LOG_WARN("pid file %s: %s", pidfile, strerror(errno));
	LOG_NOTICE("stopped");
	goto out_free;

out_delete:
	server_delete(&srv);
out_free:
	free(pidfile);
	free(conf_path);
	return rc;
}
