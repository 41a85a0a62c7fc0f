/* SPDX-License-Identifier: MIT */
/*
 * util: the few helpers every part of sealmr would otherwise write again:
 * the monotonic clock and mkdir -p.
 */
#ifndef SEALMR_UTIL_H
#define SEALMR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t util_now_ns(void);
/* Milliseconds since t0, a CLOCK_MONOTONIC reading. */
int util_elapsed_ms(const struct timespec *t0);
/* Creates dir and any missing parent, each with mode; 0 or -errno, and
 * then failed (when not NULL) names the directory that could not be made. */
int util_mkdirs(const char *dir, mode_t mode, char *failed, size_t failedlen);

#endif
