/* SPDX-License-Identifier: MIT */
/*
 * log: one macro family for daemon, library and tools. Levels, file:line,
 * a runtime threshold, stderr or syslog.
 */
#ifndef SEALMR_LOG_H
#define SEALMR_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX
};

void log_init(const char *ident, enum log_level threshold, int use_syslog);
void log_set_threshold(enum log_level threshold);
enum log_level log_get_threshold(void);
int log_level_parse(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Escape bytes a peer sent (names, paths, error texts) so that nothing it
 * says can forge a log line. Writes at most out_size bytes, always
 * terminated; returns out.
 */
char *log_escape(const char *in, size_t in_len, char *out, size_t out_size);

#define LOG_ERR(...) log_msg(LOG_LEVEL_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_WARN(...) log_msg(LOG_LEVEL_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_NOTICE(...) log_msg(LOG_LEVEL_NOTICE, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_INFO(...) log_msg(LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_DEBUG(...)                                                         \
	do {                                                                   \
		if (log_get_threshold() >= LOG_LEVEL_DEBUG)                    \
			log_msg(LOG_LEVEL_DEBUG, __FILE__, __LINE__,           \
				__VA_ARGS__);                                  \
	} while (0)

#endif
