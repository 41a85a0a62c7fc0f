/* SPDX-License-Identifier: MIT */
/*
 * sess-event: the session's wait point. The application's epoll fd holds the
 * completion channel, the rdma_cm channel and an eventfd for completions
 * waiting to be reaped; sess_progress() waits on the first two, then
 * handles the rdma_cm events and the work completions, in the order of rdma-core's ibv_get_cq_event(3): get the
 * events, count them, ack in batches, re-arm, poll until empty.
 *
 * Each of those is a system call, and a caller that spins in sealmr_poll()
 * must not pay them on every turn: a turn that finds completions touches
 * nothing but the CQ; the CQ is armed again, and its channel read, only when
 * a turn finds none and the caller may sleep next (never with busy_poll);
 * when nobody sleeps here, the rdma_cm channel is read every
 * EVENT_CM_CHECK_MS, and at once by sealmr_process().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "sealmr-internal.h"

#define EVENT_POLL_BATCH 32
/* Longest sleep before the port's state is looked at again: a link that
 * went down must fail the waiting operation now, not after the RC retries
 * run out (seconds). */
#define EVENT_PORT_CHECK_MS 250
/* How stale a spinning caller's view of the rdma_cm channel (a disconnect)
 * may get. */
#define EVENT_CM_CHECK_MS 10

static int event_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -errno : 0;
}

static int event_add(struct sealmr_conn *c, int fd, const char *what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev))
		return sess_err(c, -errno, "epoll_ctl(ADD, %s fd %d): %s", what, fd,
				strerror(errno));
	return 0;
}

int event_setup(struct sealmr_conn *c)
{
	const char *dev = ibv_get_device_name(c->verbs->device);
	/* Every record, the control sends and receives, each once at most. */
	int cqe = (int)(c->nwr + SESS_CTRL_SQ + SESS_RECVS);
	int rc;

	c->chan = FAULT("sess.comp_channel", ENOMEM) ? NULL : ibv_create_comp_channel(c->verbs);
	if (!c->chan)
		return sess_err(c, -errno, "ibv_create_comp_channel(%s): %s", dev, strerror(errno));
	rc = event_nonblock(c->chan->fd);
	if (rc)
		return sess_err(c, rc, "fcntl(completion channel, O_NONBLOCK): %s", strerror(-rc));
	c->cq =
	    FAULT("sess.create_cq", ENOMEM) ? NULL : ibv_create_cq(c->verbs, cqe, c, c->chan, 0);
	if (!c->cq)
		return sess_err(c, -errno, "ibv_create_cq(%s, %d entries): %s", dev, cqe,
				strerror(errno));
	rc = ibv_req_notify_cq(c->cq, 0);
	if (rc)
		return sess_err(c, -rc, "ibv_req_notify_cq: %s", strerror(rc));
	c->cq_armed = true;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return sess_err(c, -errno, "epoll_create1: %s", strerror(errno));
	c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->evfd < 0)
		return sess_err(c, -errno, "eventfd: %s", strerror(errno));
	rc = event_add(c, c->chan->fd, "completion channel");
	if (!rc)
		rc = event_add(c, c->cm_chan->fd, "rdma_cm channel");
	if (!rc)
		rc = event_add(c, c->evfd, "eventfd");
	return rc;
}

void event_teardown(struct sealmr_conn *c)
{
	if (c->evfd >= 0)
		close(c->evfd);
	if (c->epfd >= 0)
		close(c->epfd);
	c->evfd = c->epfd = -1;
	if (c->cq) {
		if (c->cq_unacked)
			ibv_ack_cq_events(c->cq, c->cq_unacked);
		c->cq_unacked = 0;
		ibv_destroy_cq(c->cq);
		c->cq = NULL;
	}
	if (c->chan) {
		ibv_destroy_comp_channel(c->chan);
		c->chan = NULL;
	}
}

/* The eventfd follows the ring: readable exactly while it holds entries. */
void event_ring_signal(struct sealmr_conn *c, bool readable)
{
	uint64_t v = 1;

	/* A busy poller reaps the ring itself and sleeps on nothing. */
	if (c->evfd < 0 || c->opts.busy_poll)
		return;
	if (readable) {
		if (write(c->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			LOG_DEBUG("eventfd write: %s", strerror(errno));
	} else if (read(c->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		LOG_DEBUG("eventfd read: %s", strerror(errno));
	}
}

static void event_on_cm(struct sealmr_conn *c)
{
	struct rdma_cm_event *ev;

	while (rdma_get_cm_event(c->cm_chan, &ev) == 0) {
		enum rdma_cm_event_type type = ev->event;
		struct rdma_cm_id *id = ev->id;
		bool mine = c->id && id == c->id;
		uint8_t priv[255], priv_len = ev->param.conn.private_data_len;
		int status = ev->status;

		if (ev->param.conn.private_data && priv_len)
			memcpy(priv, ev->param.conn.private_data, priv_len);
		else
			priv_len = 0;
		rdma_ack_cm_event(ev);
		LOG_DEBUG("sealmr %s: %s%s", c->where, rdma_event_str(type), mine ? "" : " (data QP)");
		if (!mine) {
			dqp_on_cm(c, id, type, status, priv, priv_len);
			continue;
		}
		switch (type) {
		case RDMA_CM_EVENT_DISCONNECTED:
			sess_drive(c, SESS_EV_DISCONNECTED, -ECONNRESET,
				   "sealmrd closed the connection");
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			sess_drive(c, SESS_EV_DISCONNECTED, -ENODEV, "the RDMA device was removed");
			break;
		default:
			break;
		}
	}
}

static void event_on_wc(struct sealmr_conn *c, const struct ibv_wc *wc)
{
	switch (WRID_KIND(wc->wr_id)) {
	case WRID_RECV:
		c->recvs_posted--;
		ctrl_on_wc(c, wc);
		return;
	case WRID_CTRL:
		c->sq_used--;
		ctrl_on_wc(c, wc);
		return;
	case WRID_DATA:
		wr_on_wc(c, wc);
		return;
	default:
		LOG_DEBUG("sealmr %s: completion with unknown wr_id 0x%llx", c->where,
			  (unsigned long long)wc->wr_id);
		return;
	}
}

static int event_poll_cq(struct sealmr_conn *c)
{
	struct ibv_wc wc[EVENT_POLL_BATCH];
	int n, total = 0;

	while ((n = ibv_poll_cq(c->cq, EVENT_POLL_BATCH, wc)) > 0) {
		for (int i = 0; i < n; i++)
			event_on_wc(c, &wc[i]);
		total += n;
	}
	if (total) {
		c->cq_event_due |= c->cq_armed;
		c->cq_armed = false;
	}
	return n < 0 ? -EIO : total;
}

/* Reads the channel's events, so that it stops being readable. */
static void event_drain_cq_channel(struct sealmr_conn *c)
{
	struct ibv_cq *cq;
	void *ctx;

	while (ibv_get_cq_event(c->chan, &cq, &ctx) == 0) {
		/* The event used the arm up, whatever the CQ held. */
		c->cq_armed = false;
		if (++c->cq_unacked >= SESS_ACK_BATCH) {
			ibv_ack_cq_events(c->cq, c->cq_unacked);
			c->cq_unacked = 0;
		}
	}
	c->cq_event_due = false;
}

/*
 * Makes sure a completion from now on wakes a sleeper on the channel. The
 * completions that came before the arm raise no event: the caller polls
 * the CQ again after this.
 */
static void event_arm_cq(struct sealmr_conn *c)
{
	int rc;

	if (c->cq_event_due)
		event_drain_cq_channel(c);
	if (c->cq_armed)
		return;
	rc = ibv_req_notify_cq(c->cq, 0);
	if (rc)
		LOG_DEBUG("sealmr %s: ibv_req_notify_cq: %s", c->where, strerror(rc));
	else
		c->cq_armed = true;
}

static bool event_cm_check_due(struct sealmr_conn *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if ((now.tv_sec - c->cm_checked.tv_sec) * 1000 +
		    (now.tv_nsec - c->cm_checked.tv_nsec) / 1000000 < EVENT_CM_CHECK_MS)
		return false;
	c->cm_checked = now;
	return true;
}

/* Asynchronous port events go to whichever connection of the process reads
 * the device's async fd first; the port's state is what every connection on
 * it can look at for itself. */
bool sess_check_port(struct sealmr_conn *c)
{
	struct ibv_port_attr pa;
	char why[SESS_ERRMSG_MAX];

	if (c->state == SESS_IDLE || !c->id || !c->verbs)
		return false;
	if (ibv_query_port(c->verbs, c->id->port_num, &pa) || pa.state == IBV_PORT_ACTIVE)
		return false;
	snprintf(why, sizeof(why), "port %u of %s is %s: its network interface is down or lost "
		 "its link", c->id->port_num, ibv_get_device_name(c->verbs->device),
		 ibv_port_state_str(pa.state));
	sess_drive(c, SESS_EV_FAILED, -ENETDOWN, why);
	/* Broken already by the failure the dead link caused: the link is the
	 * reason worth telling. */
	c->broken_err = -ENETDOWN;
	snprintf(c->broken_why, sizeof(c->broken_why), "%s", why);
	return true;
}

int sess_progress(struct sealmr_conn *c, int timeout_ms)
{
	/* Not the epoll fd: its eventfd stays readable while the ring holds
	 * completions, which would turn every internal wait into a spin. */
	struct pollfd pfd[2] = {
		{ .fd = c->chan ? c->chan->fd : -1, .events = POLLIN },
		{ .fd = c->cm_chan->fd, .events = POLLIN },
	};
	bool cm_due;
	int n;

	if (!c->cq)
		return 0;
	/* Whatever is already there first: no sleep while work waits. */
	n = event_poll_cq(c);
	if (n == 0 && (timeout_ms != 0 || !c->opts.busy_poll)) {
		/* The caller may sleep on the channel next, here or in its own
		 * loop on sealmr_fd(). */
		event_arm_cq(c);
		n = event_poll_cq(c);
	}
	cm_due = timeout_ms != 0 || event_cm_check_due(c);
	if (n == 0 && timeout_ms != 0) {
		int slice = timeout_ms < 0 || timeout_ms > EVENT_PORT_CHECK_MS ? EVENT_PORT_CHECK_MS
									  : timeout_ms;
		int ready = poll(pfd, 2, slice);

		if (ready < 0 && errno != EINTR)
			return sess_err(c, -errno, "poll: %s", strerror(errno));
		if (ready == 0 && c->state == SESS_ESTABLISHED)
			sess_check_port(c);
		if (ready > 0 && (pfd[0].revents & POLLIN)) {
			event_drain_cq_channel(c);
			event_arm_cq(c);
		}
		cm_due = ready > 0 && (pfd[1].revents & POLLIN);
	}
	if (cm_due)
		event_on_cm(c);
	{
		int m = event_poll_cq(c);

		if (m < 0)
			return sess_err(c, m, "ibv_poll_cq failed");
		n = n < 0 ? m : n + m;
	}
	return n;
}

void sess_run_revoke_cbs(struct sealmr_conn *c)
{
	struct sealmr_grant *g;

	if (c->in_revoke_cb)
		return;
	c->in_revoke_cb = true;
	/* The callback may close the grant: take it off the list first. */
	while ((g = TAILQ_FIRST(&c->revoked))) {
		TAILQ_REMOVE(&c->revoked, g, cb_entry);
		g->cb_due = false;
		if (c->revoke_fn)
			c->revoke_fn(g, g->revoke_reason, g->revoke_text, c->revoke_arg);
	}
	c->in_revoke_cb = false;
}

int sealmr_fd(const struct sealmr_conn *c)
{
	return c ? c->epfd : -EINVAL;
}

void sealmr_set_reconnect_cb(struct sealmr_conn *c, sealmr_reconnect_fn fn, void *arg)
{
	c->reconnect_fn = fn;
	c->reconnect_arg = arg;
}

void sealmr_set_revoke_cb(struct sealmr_conn *c, sealmr_revoke_fn fn, void *arg)
{
	c->revoke_fn = fn;
	c->revoke_arg = arg;
}

int sealmr_process(struct sealmr_conn *c)
{
	int rc;

	/* Called when sealmr_fd() was readable: the rdma_cm channel may be why. */
	if (c->cq)
		event_on_cm(c);
	rc = sess_progress(c, 0);

	sess_run_revoke_cbs(c);
	if (rc < 0)
		return rc;
	if (c->state != SESS_ESTABLISHED)
		return sess_not_connected(c);
	return 0;
}
