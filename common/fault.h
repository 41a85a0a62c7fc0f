/* SPDX-License-Identifier: MIT */
/*
 * fault: named failure points in the unwinding paths of the daemon and the
 * library, for the tests (configure --enable-fault-injection; compiled out
 * otherwise, FAULT then being a constant false).
 *
 *   SEALMR_FAULT=NAME[:N][,NAME[:N]]...
 *                           the Nth hit (default the first) of each point
 *                           NAME fails, once; every other hit and point
 *                           goes on
 *
 * A point stands before the call it fails in place of:
 *
 *   mr = FAULT("grant.reg_mr", ENOMEM) ? NULL : ibv_reg_mr(...);
 *
 * setting errno as that call would, and says on stderr that it fired.
 * tests/integration/faults.t walks every FAULT of the tree.
 */
#ifndef SEALMR_FAULT_H
#define SEALMR_FAULT_H

#include <errno.h>
#include <stdbool.h>

#if SEALMR_FAULT_INJECTION
bool fault_fire(const char *point);
#define FAULT(point, err) (fault_fire(point) ? (errno = (err), true) : false)
#else
#define FAULT(point, err) false
#endif

#endif
