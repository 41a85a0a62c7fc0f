/* SPDX-License-Identifier: MIT */
/*
 * sealmr-fio.so: a fio external ioengine over libsealmr.
 *
 *   ioengine=external:/PATH/sealmr-fio.so
 *   sealmr_host=HOST[:PORT]     where sealmrd listens (port 7471 by default)
 *   filename=EXPORT             the export; several files are several grants
 *   size=BYTES                  how much of each export the job uses
 *
 * Each job (thread or process) makes its own connection with depth =
 * iodepth, opens one grant per file over [0, size) with the access the job
 * needs, registers fio's I/O buffers once, and turns reads and writes into
 * sealmr_read_async / sealmr_write_async; fsync and fdatasync become
 * sealmr_flush over the file (the daemon's commit: durable on the file).
 * fio's getevents waits in sealmr_wait (asleep on the completion channel)
 * until its minimum is in, then takes what else is there with sealmr_poll.
 *
 * Built against the source of the fio it loads into (configure
 * --with-fio-src=DIR, bench/fio/get-fio-src): fio checks FIO_IOOPS_VERSION,
 * and the structures must be that fio's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fio.h"
#include "optgroup.h"

#include <sealmr/sealmr.h>

struct sfio_options {
	void *pad; /* fio keeps the engine's options after a pointer */
	char *host;
};

static struct fio_option sfio_opts[] = {
	{
		.name = "sealmr_host",
		.lname = "sealmr daemon",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct sfio_options, host),
		.help = "HOST[:PORT] of sealmrd (the export is the job's filename)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = NULL,
	},
};

struct sfio_data {
	struct sealmr_conn *conn;
	struct sealmr_buf *buf;
	struct sealmr_completion *comps;
	struct io_u **events;
	unsigned nevents;
};

/* The grant of a file hangs on f->engine_data. */
static struct sealmr_grant *sfio_grant(struct fio_file *f)
{
	return f->engine_data;
}

static int sfio_setup(struct thread_data *td)
{
	struct sfio_options *o = td->eo;
	struct fio_file *f;
	unsigned i;

	if (!o->host || !*o->host) {
		log_err("sealmr-fio: give sealmr_host=HOST[:PORT] (and filename=EXPORT)\n");
		return 1;
	}
	if (!td->o.size) {
		log_err("sealmr-fio: give size=BYTES: how much of each export to use\n");
		return 1;
	}
	for_each_file(td, f, i) {
		f->real_file_size = td->o.size / td->o.nr_files;
		fio_file_set_size_known(f);
	}
	return 0;
}

static int sfio_init(struct thread_data *td)
{
	struct sfio_options *o = td->eo;
	struct sealmr_conn_opts co = { .depth = td->o.iodepth };
	struct sfio_data *d = calloc(1, sizeof(*d));
	char host[256], *colon;
	unsigned long port = 0;
	int rc;

	if (!d)
		return 1;
	td->io_ops_data = d;
	/* HOST, HOST:PORT, [V6ADDR] or [V6ADDR]:PORT */
	snprintf(host, sizeof(host), "%s", o->host[0] == '[' ? o->host + 1 : o->host);
	colon = o->host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
	if (colon && o->host[0] != '[' && strchr(colon + 1, ':'))
		colon = NULL; /* a bare IPv6 address */
	if (colon) {
		port = strtoul(colon + 1 + (*colon == ']' && colon[1] == ':'), NULL, 10);
		*colon = '\0';
	}
	d->comps = calloc(td->o.iodepth, sizeof(*d->comps));
	d->events = calloc(td->o.iodepth, sizeof(*d->events));
	if (!d->comps || !d->events)
		return 1;
	rc = sealmr_connect(host, (uint16_t)port, &co, &d->conn);
	if (rc) {
		log_err("sealmr-fio: %s\n", sealmr_errmsg(NULL));
		return 1;
	}
	return 0;
}

/* fio's I/O buffers exist now: one registration for all of them. */
static int sfio_post_init(struct thread_data *td)
{
	struct sfio_data *d = td->io_ops_data;
	int rc = sealmr_buf_reg(d->conn, td->orig_buffer, td->orig_buffer_size, &d->buf);

	if (rc) {
		log_err("sealmr-fio: %s\n", sealmr_errmsg(d->conn));
		return 1;
	}
	return 0;
}

static void sfio_cleanup(struct thread_data *td)
{
	struct sfio_data *d = td->io_ops_data;

	if (!d)
		return;
	sealmr_buf_dereg(&d->buf);
	sealmr_disconnect(&d->conn);
	free(d->comps);
	free(d->events);
	free(d);
	td->io_ops_data = NULL;
}

static int sfio_open_file(struct thread_data *td, struct fio_file *f)
{
	struct sfio_data *d = td->io_ops_data;
	unsigned access = (td_read(td) ? SEALMR_READ : 0) | (td_write(td) ? SEALMR_WRITE : 0);
	struct sealmr_grant *g;
	int rc = sealmr_open(d->conn, f->file_name, 0, f->real_file_size, access, &g);

	if (rc) {
		log_err("sealmr-fio: %s\n", sealmr_errmsg(d->conn));
		td_verror(td, -rc, "sealmr_open");
		return 1;
	}
	f->engine_data = g;
	return 0;
}

static int sfio_close_file(struct thread_data *td, struct fio_file *f)
{
	struct sealmr_grant *g = sfio_grant(f);

	f->engine_data = NULL;
	return g ? -sealmr_close(&g) : 0;
}

static enum fio_q_status sfio_queue(struct thread_data *td, struct io_u *io_u)
{
	struct sfio_data *d = td->io_ops_data;
	struct sealmr_grant *g = sfio_grant(io_u->file);
	size_t off = (size_t)((char *)io_u->xfer_buf - td->orig_buffer);
	int rc;

	fio_ro_check(td, io_u);
	switch (io_u->ddir) {
	case DDIR_READ:
		rc = sealmr_read_async(g, io_u->offset, d->buf, off, io_u->xfer_buflen,
				       (uintptr_t)io_u);
		break;
	case DDIR_WRITE:
		rc = sealmr_write_async(g, io_u->offset, d->buf, off, io_u->xfer_buflen,
					(uintptr_t)io_u);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
		/* Waits for the writes in flight, then the daemon's commit. */
		rc = sealmr_flush(g, 0, io_u->file->real_file_size);
		io_u->error = rc < 0 ? -rc : 0;
		return FIO_Q_COMPLETED;
	default:
		io_u->error = EINVAL;
		return FIO_Q_COMPLETED;
	}
	if (rc == -EAGAIN)
		return FIO_Q_BUSY;
	if (rc) {
		log_err("sealmr-fio: %s\n", sealmr_errmsg(d->conn));
		io_u->error = -rc;
		return FIO_Q_COMPLETED;
	}
	return FIO_Q_QUEUED;
}

static int sfio_getevents(struct thread_data *td, unsigned int min, unsigned int max,
			  const struct timespec *t)
{
	struct sfio_data *d = td->io_ops_data;
	int wait_ms = t ? (int)(t->tv_sec * 1000 + t->tv_nsec / 1000000) : 1000;

	d->nevents = 0;
	while (d->nevents < max) {
		/* Asleep on the completion channel until min are in: a busy
		 * poller takes the CPU that Soft-RoCE's kernel side needs. */
		int room = (int)(max - d->nevents);
		int n = d->nevents < min ? sealmr_wait(d->conn, d->comps, room, wait_ms)
					 : sealmr_poll(d->conn, d->comps, room);

		if (n < 0) {
			log_err("sealmr-fio: %s\n", sealmr_errmsg(d->conn));
			return n;
		}
		for (int i = 0; i < n; i++) {
			struct io_u *io_u = (struct io_u *)(uintptr_t)d->comps[i].user_ctx;

			io_u->error = d->comps[i].status < 0 ? -d->comps[i].status : 0;
			io_u->resid = io_u->xfer_buflen - d->comps[i].bytes;
			d->events[d->nevents++] = io_u;
		}
		if (d->nevents == max || (n == 0 && (d->nevents >= min || t)))
			break; /* all that fits, all there is, or fio's timeout */
	}
	return (int)d->nevents;
}

static struct io_u *sfio_event(struct thread_data *td, int ev)
{
	struct sfio_data *d = td->io_ops_data;

	return d->events[ev];
}

struct ioengine_ops ioengine = {
	.name = "sealmr",
	.version = FIO_IOOPS_VERSION,
	.flags = FIO_DISKLESSIO | FIO_NOEXTEND | FIO_NODISKUTIL,
	.setup = sfio_setup,
	.init = sfio_init,
	.post_init = sfio_post_init,
	.cleanup = sfio_cleanup,
	.open_file = sfio_open_file,
	.close_file = sfio_close_file,
	.queue = sfio_queue,
	.getevents = sfio_getevents,
	.event = sfio_event,
	.options = sfio_opts,
	.option_struct_size = sizeof(struct sfio_options),
};
