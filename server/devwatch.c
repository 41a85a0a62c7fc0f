/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "devwatch.h"
#include "fault.h"
#include "log.h"

struct devwatch_dev {
	struct ibv_context *ctx;
	struct event *ev;
};

struct devwatch {
	struct devwatch_dev *devs;
	int ndevs;
};

static void devwatch_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct devwatch_dev *d = arg;
	const char *name = ibv_get_device_name(d->ctx->device);
	struct ibv_async_event ev;

	(void)fd;
	(void)what;
	while (ibv_get_async_event(d->ctx, &ev) == 0) {
		enum ibv_event_type type = ev.event_type;
		unsigned port = (unsigned)ev.element.port_num;

		ibv_ack_async_event(&ev);
		switch (type) {
		case IBV_EVENT_PORT_ERR:
			LOG_WARN("%s port %u is down: its clients lose their connections until "
				 "its network interface is up again", name, port);
			break;
		case IBV_EVENT_PORT_ACTIVE:
			/* Measured on rxe (kernel 7.2, 7.3): a CM message sent
			 * while the link was down (a disconnect, a connect) leaves
			 * the device's GSI QP in the error state, and rdma_cm on it
			 * stays dead. */
			LOG_NOTICE("%s port %u is active again; if new connections through it time "
				   "out, `rdma res show qp lqpn 1` shows its GSI QP in the error "
				   "state (a Soft-RoCE device must then be deleted and added again)",
				   name, port);
			break;
		default:
			/* QP and CQ events belong to the connections, which see
			 * their failures as completions. */
			LOG_DEBUG("%s: async event %s", name, ibv_event_type_str(type));
			break;
		}
	}
}

static int devwatch_open(struct event_base *base, struct ibv_device *dev, struct devwatch_dev *d)
{
	const char *name = ibv_get_device_name(dev);
	int fl, rc;

	d->ctx = FAULT("devwatch.open", ENOMEM) ? NULL : ibv_open_device(dev);
	if (!d->ctx) {
		LOG_WARN("%s: ibv_open_device: %s; its port events go unwatched", name,
			 strerror(errno));
		return -errno;
	}
	fl = fcntl(d->ctx->async_fd, F_GETFL);
	if (fl < 0 || fcntl(d->ctx->async_fd, F_SETFL, fl | O_NONBLOCK)) {
		rc = -errno;
		LOG_WARN("%s: fcntl(O_NONBLOCK) of its async fd: %s", name, strerror(errno));
		goto err_close;
	}
	rc = -ENOMEM;
	d->ev = FAULT("devwatch.event", ENOMEM)
		    ? NULL
		    : event_new(base, d->ctx->async_fd, EV_READ | EV_PERSIST, devwatch_on_event, d);
	if (!d->ev || event_add(d->ev, NULL))
		goto err_free_event;
	return 0;

err_free_event:
	if (d->ev)
		event_free(d->ev);
	d->ev = NULL;
err_close:
	LOG_WARN("%s: cannot watch its async events: %s", name, strerror(-rc));
	ibv_close_device(d->ctx);
	d->ctx = NULL;
	return rc;
}

int devwatch_new(struct event_base *base, struct devwatch **out)
{
	struct devwatch *dw = FAULT("devwatch.new", ENOMEM) ? NULL : calloc(1, sizeof(*dw));
	struct ibv_device **list;
	int n;

	if (!dw)
		return -ENOMEM;
	list = ibv_get_device_list(&n);
	if (!list) {
		LOG_WARN("ibv_get_device_list: %s; port events go unwatched", strerror(errno));
		*out = dw;
		return 0;
	}
	dw->devs = FAULT("devwatch.devs", ENOMEM) ? NULL : calloc((size_t)n + 1, sizeof(*dw->devs));
	if (!dw->devs) {
		ibv_free_device_list(list);
		free(dw);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		if (devwatch_open(base, list[i], &dw->devs[dw->ndevs]) == 0)
			dw->ndevs++;
	}
	ibv_free_device_list(list);
	*out = dw;
	return 0;
}

void devwatch_delete(struct devwatch **pdw)
{
	struct devwatch *dw = *pdw;

	if (!dw)
		return;
	for (int i = 0; i < dw->ndevs; i++) {
		event_free(dw->devs[i].ev);
		ibv_close_device(dw->devs[i].ctx);
	}
	free(dw->devs);
	free(dw);
	*pdw = NULL;
}
