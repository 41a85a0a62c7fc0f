/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

/* syslog.h's priority names collide with the LOG_* macros of log.h; the
 * numbers are fixed by POSIX. */
#undef LOG_ERR
#undef LOG_NOTICE
#undef LOG_INFO
#undef LOG_DEBUG
#define SYSLOG_ERR 3
#define SYSLOG_WARNING 4
#define SYSLOG_NOTICE 5
#define SYSLOG_INFO 6
#define SYSLOG_DEBUG 7

#include "log.h"

static enum log_level log_threshold = LOG_LEVEL_NOTICE;
static int log_syslog;
static const char *log_ident = "sealmr";

static const char *const log_names[LOG_LEVEL_MAX] = {
	"error", "warn", "notice", "info", "debug",
};

void log_init(const char *ident, enum log_level threshold, int use_syslog)
{
	log_ident = ident;
	log_threshold = threshold;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_threshold(enum log_level threshold)
{
	log_threshold = threshold;
}

enum log_level log_get_threshold(void)
{
	return log_threshold;
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i < LOG_LEVEL_MAX; i++) {
		if (strcasecmp(name, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	static const int prio[LOG_LEVEL_MAX] = {
		SYSLOG_ERR, SYSLOG_WARNING, SYSLOG_NOTICE, SYSLOG_INFO, SYSLOG_DEBUG,
	};
	char msg[1024];
	va_list ap;

	if (level > log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	const char *base = strrchr(file, '/');
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s[%s] %s (%s:%d)\n", when, ts.tv_nsec / 1000000,
		log_ident, log_names[level], msg, base ? base + 1 : file, line);
}

char *log_escape(const char *in, size_t in_len, char *out, size_t out_size)
{
	size_t o = 0;

	if (out_size == 0)
		return out;
	for (size_t i = 0; i < in_len && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		int n;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			n = (o + 1 < out_size) ? (out[o] = (char)c, 1) : 0;
		else
			n = (o + 4 < out_size) ? snprintf(out + o, 5, "\\x%02x", c) : 0;
		if (n == 0)
			break;
		o += (size_t)n;
	}
	out[o] = '\0';
	return out;
}
