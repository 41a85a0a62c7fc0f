/* SPDX-License-Identifier: MIT */
/*
 * journal: the crash-safe list of FS_IMMUTABLE_FL flags the seal registry
 * set. See journal.h for the file format.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "journal.h"
#include "seal-internal.h"
#include "util.h"
#include "log.h"

#define JOURNAL_NAME "seal.journal"
#define JOURNAL_TMP "seal.journal.tmp"
#define JOURNAL_LOCK "seal.lock"
#define JOURNAL_MAGIC "sealmr-seal-journal 1"

struct journal {
	int dir_fd;
	int lock_fd;
	char *path; /* STATE_DIR/seal.journal, for messages */
	struct journal_entry *ents;
	size_t n, cap;
};

static int journal_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (o + 4 > outlen)
			return -ENAMETOOLONG;
		if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return 0;
}

static int journal_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescapes in place; -EINVAL on a malformed escape or an embedded NUL. */
static int journal_unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int hi = journal_hexval(p[1]), lo = hi < 0 ? -1 : journal_hexval(p[2]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return 0;
}

static int journal_append(struct journal *j, uint64_t dev, uint64_t ino, const char *path)
{
	char *copy = FAULT("journal.path", ENOMEM) ? NULL : strdup(path);

	if (copy == NULL)
		return -ENOMEM;
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 8;
		struct journal_entry *e =
		    FAULT("journal.grow", ENOMEM) ? NULL : realloc(j->ents, cap * sizeof(*e));

		if (e == NULL) {
			free(copy);
			return -ENOMEM;
		}
		j->ents = e;
		j->cap = cap;
	}
	j->ents[j->n++] = (struct journal_entry){ .dev = dev, .ino = ino, .path = copy };
	return 0;
}

/* Parses one record line (newline stripped). */
static int journal_parse_line(struct journal *j, char *line)
{
	char *end, *path;
	unsigned long long dev, ino;

	errno = 0;
	dev = strtoull(line, &end, 16);
	if (errno || end == line || *end != ' ')
		return -EINVAL;
	line = end + 1;
	ino = strtoull(line, &end, 10);
	if (errno || end == line || *end != ' ')
		return -EINVAL;
	path = end + 1;
	/* Longer than a path can be: no registry wrote it, and no rewrite could. */
	if (*path != '/' || journal_unescape(path) < 0 || strlen(path) >= PATH_MAX)
		return -EINVAL;
	return journal_append(j, dev, ino, path);
}

static int journal_load(struct journal *j)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t n;
	int fd, rc = 0;
	FILE *f;

	fd = openat(j->dir_fd, JOURNAL_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	f = fdopen(fd, "r");
	if (f == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (lineno == 1 && strcmp(line, JOURNAL_MAGIC) == 0)
			continue;
		if (line[0] == '\0')
			continue;
		rc = journal_parse_line(j, line);
		if (rc == -ENOMEM)
			break;
		if (rc < 0)
			LOG_WARN("%s:%u: malformed seal journal record dropped", j->path, lineno);
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}

int journal_open(const char *state_dir, struct journal **out, char *err, size_t errlen)
{
	struct journal *j;
	int rc;

	if (state_dir == NULL || *state_dir == '\0' || out == NULL)
		return -EINVAL;
	j = FAULT("journal.new", ENOMEM) ? NULL : calloc(1, sizeof(*j));
	if (j == NULL) {
		seal_errf(err, errlen, "seal journal in %s: %s", state_dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	j->dir_fd = j->lock_fd = -1;
	if (FAULT("journal.name", ENOMEM) ||
	    asprintf(&j->path, "%s/%s", state_dir, JOURNAL_NAME) < 0) {
		j->path = NULL;
		rc = -ENOMEM;
		seal_errf(err, errlen, "seal journal in %s: %s", state_dir, strerror(ENOMEM));
		goto err_free;
	}
	rc = util_mkdirs(state_dir, 0700, NULL, 0);
	if (rc < 0) {
		seal_errf(err, errlen, "state directory %s: cannot create it: %s", state_dir,
			  strerror(-rc));
		goto err_free;
	}
	j->dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		rc = -errno;
		seal_errf(err, errlen, "state directory %s: %s", state_dir, strerror(-rc));
		goto err_free;
	}
	j->lock_fd = openat(j->dir_fd, JOURNAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0) {
		rc = -errno;
		seal_errf(err, errlen, "%s/%s: %s", state_dir, JOURNAL_LOCK, strerror(-rc));
		goto err_close_dir;
	}
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		seal_errf(err, errlen,
			     "state directory %s is in use by another process (%s/%s is locked); give each instance its own state_dir",
			     state_dir, state_dir, JOURNAL_LOCK);
		goto err_close_lock;
	}
	rc = journal_load(j);
	if (rc < 0) {
		seal_errf(err, errlen, "%s: cannot read the seal journal: %s", j->path,
			     strerror(-rc));
		goto err_close_lock;
	}
	*out = j;
	return 0;

err_close_lock:
	close(j->lock_fd);
err_close_dir:
	close(j->dir_fd);
err_free:
	for (size_t i = 0; i < j->n; i++)
		free(j->ents[i].path);
	free(j->ents);
	free(j->path);
	free(j);
	return rc;
}

void journal_close(struct journal **jp)
{
	struct journal *j = jp ? *jp : NULL;

	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++)
		free(j->ents[i].path);
	free(j->ents);
	close(j->lock_fd); /* releases the flock */
	close(j->dir_fd);
	free(j->path);
	free(j);
	*jp = NULL;
}

size_t journal_count(const struct journal *j)
{
	return j->n;
}

const struct journal_entry *journal_get(const struct journal *j, size_t i)
{
	return i < j->n ? &j->ents[i] : NULL;
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

static int journal_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
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

/* The whole file, as it should be now, into a malloc'd buffer. */
static int journal_render(const struct journal *j, char **buf, size_t *len)
{
	char *esc = NULL;
	size_t esclen = 3 * PATH_MAX + 1;
	FILE *m = FAULT("journal.memstream", ENOMEM) ? NULL : open_memstream(buf, len);
	int rc = 0;

	if (m == NULL)
		return -ENOMEM;
	esc = FAULT("journal.escape", ENOMEM) ? NULL : malloc(esclen);
	if (esc == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	fprintf(m, "%s\n", JOURNAL_MAGIC);
	for (size_t i = 0; i < j->n; i++) {
		rc = journal_escape(j->ents[i].path, esc, esclen);
		if (rc < 0)
			goto out_close;
		fprintf(m, "%llx %llu %s\n", (unsigned long long)j->ents[i].dev,
			(unsigned long long)j->ents[i].ino, esc);
	}
out_close:
	free(esc);
	if (fclose(m) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* Write to temporary, fsync, rename over, fsync the directory. */
static int journal_write(struct journal *j)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	rc = journal_render(j, &buf, &len);
	if (rc < 0)
		return rc;
	fd = openat(j->dir_fd, JOURNAL_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto err_free;
	}
	rc = FAULT("journal.write", EIO) ? -EIO : journal_write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0)
		goto err_unlink;
	if (FAULT("journal.rename", EIO) ||
	    renameat(j->dir_fd, JOURNAL_TMP, j->dir_fd, JOURNAL_NAME) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	if (FAULT("journal.fsync_dir", EIO) || fsync(j->dir_fd) < 0)
		rc = -errno;
	free(buf);
	if (rc < 0)
		LOG_ERR("fsync(%s's directory): %s", j->path, strerror(-rc));
	return rc;

err_unlink:
	unlinkat(j->dir_fd, JOURNAL_TMP, 0);
err_free:
	free(buf);
	LOG_ERR("%s: cannot write the seal journal: %s", j->path, strerror(-rc));
	return rc;
}

static ssize_t journal_find(const struct journal *j, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->ents[i].dev == dev && j->ents[i].ino == ino)
			return (ssize_t)i;
	return -1;
}

static void journal_drop(struct journal *j, size_t i)
{
	free(j->ents[i].path);
	memmove(&j->ents[i], &j->ents[i + 1], (j->n - i - 1) * sizeof(j->ents[0]));
	j->n--;
}

int journal_add(struct journal *j, uint64_t dev, uint64_t ino, const char *path)
{
	ssize_t i = journal_find(j, dev, ino);
	int rc;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	if (i >= 0)
		journal_drop(j, (size_t)i);
	rc = journal_append(j, dev, ino, path);
	if (rc < 0)
		return rc;
	rc = journal_write(j);
	if (rc < 0)
		journal_drop(j, j->n - 1);
	return rc;
}

int journal_remove(struct journal *j, uint64_t dev, uint64_t ino)
{
	ssize_t i = journal_find(j, dev, ino);

	if (i < 0)
		return 0;
	journal_drop(j, (size_t)i);
	return FAULT("journal.remove", EIO) ? -EIO : journal_write(j);
}

int journal_replay(struct journal *j, journal_replay_fn fn, void *arg)
{
	size_t before = j->n, i = 0;
	int lifted = 0;

	while (i < j->n) {
		const struct journal_entry *e = &j->ents[i];
		int rc = fn(e->dev, e->ino, e->path, arg);

		if (rc < 0) {
			i++; /* kept for the next run */
			continue;
		}
		lifted += rc;
		journal_drop(j, i);
	}
	if (j->n != before) {
		int rc = journal_write(j);

		if (rc < 0)
			return rc;
	}
	if (before)
		LOG_NOTICE("seal journal %s: %zu stale record(s), %d flag(s) lifted, %zu kept",
			   j->path, before, lifted, j->n);
	return lifted;
}
