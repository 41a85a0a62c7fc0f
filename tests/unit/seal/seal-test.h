/* SPDX-License-Identifier: MIT */
/*
 * seal-test: helpers the seal unit tests share: scratch directories, files
 * with given contents, and whether this process may set FS_IMMUTABLE_FL
 * here (tests that need it skip otherwise).
 */
#ifndef SEALMR_SEAL_TEST_H
#define SEALMR_SEAL_TEST_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

static inline char *seal_test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *t;

	if (asprintf(&t, "%s/seal-unit.XXXXXX", base) < 0 || mkdtemp(t) == NULL)
		abort();
	return t;
}

static inline int seal_test_rm_one(const char *p, const struct stat *st, int type,
				   struct FTW *ftw)
{
	int fd = open(p, O_RDONLY | O_NONBLOCK | O_NOFOLLOW), flags;

	if (fd >= 0) { /* a test that failed half-way may leave +i behind */
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
			flags &= ~FS_IMMUTABLE_FL;
			ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		close(fd);
	}
	remove(p);
	return 0;
}

static inline void seal_test_rmtree(char *dir)
{
	nftw(dir, seal_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static inline char *seal_test_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

/* Writes len bytes of byte at off (creating the file); returns 0 or -1. */
static inline int seal_test_write(const char *path, off_t off, int byte, size_t len)
{
	char *buf = malloc(len ? len : 1);
	int fd = open(path, O_WRONLY | O_CREAT, 0644), rc = 0;

	if (fd < 0 || buf == NULL)
		abort();
	memset(buf, byte, len);
	if (len && pwrite(fd, buf, len, off) != (ssize_t)len)
		rc = -1;
	close(fd);
	free(buf);
	return rc;
}

static inline int seal_test_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		flags = -1;
	close(fd);
	return flags;
}

static inline bool seal_test_immutable(const char *path)
{
	int flags = seal_test_flags(path);

	return flags >= 0 && (flags & FS_IMMUTABLE_FL);
}

static inline int seal_test_chattr(const char *path, bool on)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags, rc = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

/* Can this process set and clear FS_IMMUTABLE_FL in dir? */
static inline bool seal_test_can_chattr(const char *dir)
{
	char *p = seal_test_path(dir, ".chattr-probe");
	bool ok;

	seal_test_write(p, 0, 'x', 1);
	ok = seal_test_chattr(p, true) == 0 && seal_test_chattr(p, false) == 0;
	unlink(p);
	free(p);
	return ok;
}

#endif
