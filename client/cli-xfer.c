/* SPDX-License-Identifier: MIT */
/*
 * sealmr put / sealmr get: a local file to a range of an export and back,
 * through the blocking sealmr_write/sealmr_read in large pieces.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CLI_PIECE (16u << 20) /* bytes per sealmr_read/sealmr_write call */
/*
 * Grants start on a page even when the range does not: some RDMA devices
 * (Soft-RoCE with on-demand paging) only place packets right from a page
 * start, and libsealmr can only align a transfer within its grant.
 */

static uint64_t cli_align_down(uint64_t off)
{
	return off & ~(uint64_t)(SEALMR_GRANT_ALIGN - 1);
}

static int cli_read_full(int fd, char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int cli_write_full(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void cli_report(const struct cli_opts *o, FILE *fp, const char *what, uint64_t bytes,
		       const struct cli_target *t, uint64_t off, double secs)
{
	if (o->quiet)
		return;
	fprintf(fp, "%s %" PRIu64 " bytes %s %s:%u/%s@%" PRIu64 " in %.2f s, %.1f MB/s\n", what,
		bytes, !strcmp(what, "put") ? "to" : "from", t->host, t->port, t->export, off, secs,
		secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
}

/* Writes the file's bytes over the grant, then makes them durable. */
static int cli_put_data(struct cli_session *s, const struct cli_opts *o, struct sealmr_grant *g,
			uint64_t base, int fd, uint64_t size, char *buf)
{
	struct cli_progress p;
	uint64_t done = 0;
	int rc;

	/* A flush of nothing judges the method: refused before a byte is
	 * written, not after all of them. */
	rc = sealmr_flush_with(g, base, 0, o->flush_method);
	if (rc)
		return cli_fail(s, CLI_PHASE_DATA, rc);
	cli_progress_start(&p, o, "put", size);
	while (done < size) {
		size_t n = size - done < CLI_PIECE ? (size_t)(size - done) : CLI_PIECE;

		rc = cli_read_full(fd, buf, n, done);
		if (rc) {
			cli_progress_end(&p);
			return cli_fail_msg(s->cmd, CLI_IO, "reading at %" PRIu64 ": %s", done,
					    rc == -ENODATA ? "the file shrank" : strerror(-rc));
		}
		rc = sealmr_write(g, base + done, buf, n);
		if (rc) {
			cli_progress_end(&p);
			return cli_fail(s, CLI_PHASE_DATA, rc);
		}
		done += n;
		cli_progress_update(&p, done);
	}
	cli_progress_end(&p);
	rc = sealmr_flush_with(g, base, size, o->flush_method);
	return rc ? cli_fail(s, CLI_PHASE_DATA, rc) : 0;
}

int cli_put(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct sealmr_grant *g = NULL;
	struct cli_target t;
	struct stat st;
	uint64_t base;
	char cmd[300];
	char *buf;
	double t0;
	int fd, rc;

	if (argc != 2)
		return cli_fail_msg("put", CLI_USAGE, "usage: put LOCALFILE HOST[:PORT]/EXPORT[@OFFSET]");
	snprintf(cmd, sizeof(cmd), "put %s", argv[0]);
	s.cmd = cmd;
	rc = cli_parse_target(cmd, argv[1], true, &t);
	if (rc)
		return rc;
	if (t.has_length)
		return cli_fail_msg(cmd, CLI_USAGE, "put takes no +LENGTH: the file's size is the length");
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return cli_fail_msg(cmd, CLI_IO, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return cli_fail_msg(cmd, CLI_USAGE, "%s", S_ISREG(st.st_mode)
				    ? "the file is empty: nothing to put" : "not a regular file");
	}
	buf = malloc(CLI_PIECE);
	if (!buf) {
		close(fd);
		return cli_fail_msg(cmd, CLI_IO, "out of memory");
	}
	rc = cli_connect(&s, &t, o, 0);
	if (rc)
		goto out_free;
	t0 = cli_now();
	base = t.offset - cli_align_down(t.offset);
	rc = sealmr_open(s.conn, t.export, t.offset - base, base + (uint64_t)st.st_size,
			 SEALMR_WRITE, &g);
	if (rc) {
		rc = cli_fail(&s, CLI_PHASE_CTRL, rc);
		goto out_disconnect;
	}
	rc = cli_put_data(&s, o, g, base, fd, (uint64_t)st.st_size, buf);
	if (rc == 0) {
		double secs = cli_now() - t0;

		rc = sealmr_close(&g);
		if (rc)
			rc = cli_fail(&s, CLI_PHASE_CTRL, rc);
		else
			cli_report(o, stdout, "put", (uint64_t)st.st_size, &t, t.offset, secs);
	}
	sealmr_close(&g);
out_disconnect:
	cli_disconnect(&s);
out_free:
	free(buf);
	close(fd);
	return rc;
}

/* Decides the range: the whole export from OFFSET unless +LENGTH says. */
static int cli_get_range(struct cli_session *s, struct cli_target *t)
{
	struct sealmr_stat st;
	int rc;

	if (t->has_length)
		return 0;
	rc = sealmr_stat(s->conn, t->export, &st);
	if (rc)
		return cli_fail(s, CLI_PHASE_CTRL, rc);
	if (t->offset >= st.size)
		return cli_fail_msg(s->cmd, CLI_SERVER, "offset %" PRIu64 " is %s the end of export "
				    "'%s' (%" PRIu64 " bytes): nothing to get", t->offset,
				    t->offset == st.size ? "at" : "beyond", t->export, st.size);
	t->length = st.size - t->offset;
	return 0;
}

static int cli_get_data(struct cli_session *s, const struct cli_opts *o, struct sealmr_grant *g,
			uint64_t base, int fd, uint64_t len, char *buf)
{
	struct cli_progress p;
	uint64_t done = 0;
	int rc;

	cli_progress_start(&p, o, "get", len);
	while (done < len) {
		size_t n = len - done < CLI_PIECE ? (size_t)(len - done) : CLI_PIECE;

		rc = sealmr_read(g, base + done, buf, n);
		if (rc) {
			cli_progress_end(&p);
			return cli_fail(s, CLI_PHASE_DATA, rc);
		}
		rc = cli_write_full(fd, buf, n);
		if (rc) {
			cli_progress_end(&p);
			return cli_fail_msg(s->cmd, CLI_IO, "writing: %s", strerror(-rc));
		}
		done += n;
		cli_progress_update(&p, done);
	}
	cli_progress_end(&p);
	return 0;
}

int cli_get(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct sealmr_grant *g = NULL;
	struct cli_target t;
	uint64_t base;
	char cmd[300];
	bool to_stdout;
	char *buf;
	double t0;
	int fd = -1, rc;

	if (argc != 2)
		return cli_fail_msg("get", CLI_USAGE,
				    "usage: get HOST[:PORT]/EXPORT[@OFFSET[+LENGTH]] LOCALFILE|-");
	snprintf(cmd, sizeof(cmd), "get %s", argv[0]);
	s.cmd = cmd;
	rc = cli_parse_target(cmd, argv[0], true, &t);
	if (rc)
		return rc;
	to_stdout = !strcmp(argv[1], "-");
	buf = malloc(CLI_PIECE);
	if (!buf)
		return cli_fail_msg(cmd, CLI_IO, "out of memory");
	rc = cli_connect(&s, &t, o, 0);
	if (rc)
		goto out_free;
	t0 = cli_now();
	rc = cli_get_range(&s, &t);
	if (rc)
		goto out_disconnect;
	base = t.length ? t.offset - cli_align_down(t.offset) : 0;
	rc = sealmr_open(s.conn, t.export, t.offset - base, base + t.length, SEALMR_READ, &g);
	if (rc) {
		rc = cli_fail(&s, CLI_PHASE_CTRL, rc);
		goto out_disconnect;
	}
	/* Only now: a refused get leaves no empty file behind. */
	fd = to_stdout ? STDOUT_FILENO : open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = cli_fail_msg(cmd, CLI_IO, "%s: %s", argv[1], strerror(errno));
		goto out_close;
	}
	rc = cli_get_data(&s, o, g, base, fd, t.length, buf);
	if (!to_stdout && close(fd) && !rc)
		rc = cli_fail_msg(cmd, CLI_IO, "%s: %s", argv[1], strerror(errno));
	if (rc == 0)
		cli_report(o, to_stdout ? stderr : stdout, "get", t.length, &t, t.offset,
			   cli_now() - t0);
out_close:
	sealmr_close(&g);
out_disconnect:
	cli_disconnect(&s);
out_free:
	free(buf);
	return rc;
}
