/* SPDX-License-Identifier: MIT */
/*
 * devwatch: the asynchronous events of every RDMA device, on the daemon's
 * loop, so that the log says when and why clients on a port fail: a port
 * that goes down, a port that comes back. The connections notice by
 * themselves (their work requests fail); this is for the operator.
 */
#ifndef SEALMR_DEVWATCH_H
#define SEALMR_DEVWATCH_H

#include <event2/event.h>

struct devwatch;

/* Opens every RDMA device there is; a device that cannot be opened is
 * logged and left out. 0 or -errno. */
int devwatch_new(struct event_base *base, struct devwatch **out);
void devwatch_delete(struct devwatch **dw);

#endif
