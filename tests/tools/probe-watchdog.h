/* SPDX-License-Identifier: MIT */
/*
 * probe-watchdog: the probes' (daxprobe, mwprobe) guard against a stuck
 * connection. A probe names each step with PROBE_STEP; if none comes for
 * PROBE_WATCHDOG_S seconds the probe prints its verdict word for "stuck",
 * says on stderr after which step, kills its server child and exits, so
 * that the fact fails with where it stuck rather than hang the suite until
 * its outer timeout. One copy per program: it keeps its state in statics.
 */
#ifndef SEALMR_TESTS_PROBE_WATCHDOG_H
#define SEALMR_TESTS_PROBE_WATCHDOG_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define PROBE_WATCHDOG_S 90

struct probe_watchdog {
	const char *tool;    /* "daxprobe": in messages */
	const char *verdict; /* printed on stdout when stuck */
	int exit_code;
	int debug;           /* print every step on stderr */
	const char *volatile step;
	pid_t child;         /* killed when stuck; 0: none */
};

static struct probe_watchdog probe_wd = { .step = "start" };

#define PROBE_STEP(s)                                                              \
	do {                                                                       \
		probe_wd.step = s;                                                 \
		if (probe_wd.debug)                                                \
			fprintf(stderr, "%s: %s\n", probe_wd.tool, s);             \
	} while (0)

static void probe_watchdog_fire(int sig)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "%s: no progress for %d s after \"%s\"\n",
			 probe_wd.tool, PROBE_WATCHDOG_S, probe_wd.step);

	(void)sig;
	if (write(2, msg, (size_t)n) < 0)
		_exit(probe_wd.exit_code);
	/* Only the parent's stdout is the verdict; the child is silent. */
	if (probe_wd.child > 0) {
		kill(probe_wd.child, SIGKILL);
		if (write(1, probe_wd.verdict, strlen(probe_wd.verdict)) < 0 || write(1, "\n", 1) < 0)
			_exit(probe_wd.exit_code);
	}
	_exit(probe_wd.exit_code);
}

/* Sets who the probe is (once), then (re)starts the countdown. */
static void probe_watchdog_arm(const char *tool, const char *verdict, int exit_code,
			       const char *debug_env)
{
	probe_wd.tool = tool;
	probe_wd.verdict = verdict;
	probe_wd.exit_code = exit_code;
	probe_wd.debug = getenv(debug_env) != NULL;
	signal(SIGALRM, probe_watchdog_fire);
	alarm(PROBE_WATCHDOG_S);
}

#endif
