/* SPDX-License-Identifier: MIT */
/*
 * seal-watch: the safety net. inotify on every sealed file and a periodic
 * re-check; when a file lost its flag, its size or its name, the owner of
 * every seal on it hears about it once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "seal-internal.h"

void seal_registry_set_changed_cb(struct seal_registry *reg, seal_changed_fn fn, void *arg)
{
	reg->cb = fn;
	reg->cb_arg = arg;
}

int seal_registry_fd(const struct seal_registry *reg)
{
	return reg->ino_fd;
}

static void seal_why_add(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seal_why_add(char *why, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 3 >= SEAL_WHY_MAX)
		return;
	if (n)
		n += (size_t)snprintf(why + n, SEAL_WHY_MAX - n, "; ");
	va_start(ap, fmt);
	vsnprintf(why + n, SEAL_WHY_MAX - n, fmt, ap);
	va_end(ap);
}

/* What changed under the seal, in why (empty: nothing). */
static void seal_file_check(const struct seal_file *f, char *why)
{
	struct stat st, pst;
	int flags, rc;

	why[0] = '\0';
	if (f->leased) {
		/* A lease being broken reads as the type it is broken to. */
		if (fcntl(f->fd, F_GETLEASE) != F_WRLCK)
			seal_why_add(why, "another process opened it (its write lease was broken)");
	} else if ((rc = seal_get_flags(f->fd, &flags)) < 0)
		seal_why_add(why, "cannot read its flags: %s", strerror(-rc));
	else if (!(flags & FS_IMMUTABLE_FL))
		seal_why_add(why, "its immutable flag was cleared behind the seal");
	if (fstat(f->fd, &st) == 0) {
		if (st.st_nlink == 0)
			seal_why_add(why, "it was deleted");
		if ((uint64_t)st.st_size != f->size)
			seal_why_add(why, "its size changed from %llu to %llu",
				     (unsigned long long)f->size, (unsigned long long)st.st_size);
	}
	if (stat(f->path, &pst) < 0)
		seal_why_add(why, "%s is gone (%s): renamed or deleted", f->path, strerror(errno));
	else if ((uint64_t)pst.st_dev != f->dev || (uint64_t)pst.st_ino != f->ino)
		seal_why_add(why, "%s now names another file (renamed over)", f->path);
}

/* Checks f; if it changed, tells the owner of every seal on it, once. */
static void seal_file_verify(struct seal_file *f, const char *via)
{
	char why[SEAL_WHY_MAX];
	struct seal_registry *reg = f->reg;
	unsigned n = 0;

	if (f->lost)
		return;
	seal_file_check(f, why);
	if (why[0] == '\0')
		return;
	f->lost = true;
	for (struct seal *s = f->seals; s; s = s->next)
		n++;
	LOG_WARN("seal: %s changed under %u seal(s), seen by %s: %s", f->path, n, via, why);
	/* The opener waits in the kernel until the lease goes: it goes now,
	 * the grants being revoked below. */
	if (f->leased && fcntl(f->fd, F_SETLEASE, F_UNLCK) < 0)
		LOG_WARN("seal: %s: F_SETLEASE(F_UNLCK): %s", f->path, strerror(errno));
	f->refs++; /* the callbacks may delete every seal on f */
	for (;;) {
		struct seal *s = f->seals;

		while (s && s->notified)
			s = s->next;
		if (s == NULL)
			break;
		s->notified = true;
		if (reg->cb)
			reg->cb(s, why, reg->cb_arg);
		else
			LOG_WARN("seal: %s %llu+%llu: no one to tell that it changed", f->path,
				 (unsigned long long)s->offset, (unsigned long long)s->length);
	}
	seal_file_put(f);
}

static void seal_verify_all(struct seal_registry *reg, const char *via, int only_wd)
{
	struct seal_file *f = reg->files, *next;

	while (f) {
		if (only_wd >= 0 && f->wd != only_wd) {
			f = f->next;
			continue;
		}
		f->refs++;
		seal_file_verify(f, via);
		next = f->next;
		seal_file_put(f);
		f = next;
	}
}

void seal_registry_process(struct seal_registry *reg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(reg->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				seal_verify_all(reg, "inotify (overflow)", -1);
				continue;
			}
			LOG_DEBUG("seal: inotify wd %d mask %#x", ev->wd, ev->mask);
			seal_verify_all(reg, "inotify", ev->wd);
			if (ev->mask & IN_IGNORED) {
				for (struct seal_file *f = reg->files; f; f = f->next)
					if (f->wd == ev->wd)
						f->wd = -1;
			}
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		LOG_ERR("seal: read(inotify): %s", strerror(errno));
}

void seal_registry_verify(struct seal_registry *reg)
{
	seal_verify_all(reg, "the periodic check", -1);
}
