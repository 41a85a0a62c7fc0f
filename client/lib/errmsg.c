/* SPDX-License-Identifier: MIT */
/*
 * errmsg: the per-connection message behind every negative return, and the
 * per-thread one of a sealmr_connect that failed before there was a
 * connection to hold it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sealmr-internal.h"

static __thread char connect_errmsg[SESS_ERRMSG_MAX];

int sess_verr(struct sealmr_conn *c, int err, const char *fmt, va_list ap)
{
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	return err;
}

int sess_err(struct sealmr_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sess_verr(c, err, fmt, ap);
	va_end(ap);
	return err;
}

void connect_err_set(const char *msg)
{
	snprintf(connect_errmsg, sizeof(connect_errmsg), "%s", msg);
}

const char *sealmr_errmsg(const struct sealmr_conn *c)
{
	if (!c)
		return connect_errmsg[0] ? connect_errmsg : "no error";
	return c->errmsg[0] ? c->errmsg : "no error";
}
