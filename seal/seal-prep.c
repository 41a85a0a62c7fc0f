/* SPDX-License-Identifier: MIT */
/*
 * seal-prep: everything a range goes through before it is sealed: the
 * parameters, write access and CAP_LINUX_IMMUTABLE, DAX, then extending,
 * allocating, unsharing and writing zeros over holes and unwritten extents
 * until FIEMAP proves the range clean.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "fault.h"
#include "fiemap.h"
#include "seal-internal.h"

static bool seal_have_cap_immutable(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return true; /* cannot tell: the flag ioctl will say */
	return data[CAP_TO_INDEX(CAP_LINUX_IMMUTABLE)].effective &
	       CAP_TO_MASK(CAP_LINUX_IMMUTABLE);
}

int seal_get_flags(int fd, int *flags)
{
	if (ioctl(fd, FS_IOC_GETFLAGS, flags) < 0)
		return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
	return 0;
}

/* Sets or clears FS_IMMUTABLE_FL on fd; 0 or a negative errno. */
int seal_set_immutable(int fd, bool on)
{
	int flags, rc = seal_get_flags(fd, &flags);

	if (rc < 0)
		return rc;
	if (!!(flags & FS_IMMUTABLE_FL) == on)
		return 0;
	flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		return -errno;
	return 0;
}

int seal_check_params(const struct seal_params *p, char *err, size_t errlen)
{
	const char *path = p->path ? p->path : "(null)";
	int type = p->map_type ? p->map_type : MAP_SHARED;

	if (p->path == NULL || p->path[0] == '\0')
		return SEAL_FAIL(-EINVAL, err, errlen, "no path given");
	if (type == MAP_PRIVATE)
		return SEAL_FAIL(-EINVAL, err, errlen,
				 "%s: a private mapping was asked for; a seal is always shared (MAP_SHARED), so that writes reach the file",
				 path);
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return SEAL_FAIL(-EINVAL, err, errlen, "%s: map_type %#x is not MAP_SHARED", path,
				 (unsigned)type);
	if (p->mode != SEAL_MODE_DAX && p->mode != SEAL_MODE_PAGECACHE)
		return SEAL_FAIL(-EINVAL, err, errlen, "%s: unknown mode %d", path, (int)p->mode);
	if (p->length == 0)
		return SEAL_FAIL(-EINVAL, err, errlen, "%s: the range is empty (length 0)", path);
	if (p->offset % seal_page())
		return SEAL_FAIL(-EINVAL, err, errlen,
				 "%s: offset %llu is not a multiple of the page size (%zu)", path,
				 (unsigned long long)p->offset, seal_page());
	if (p->offset + p->length < p->offset || p->offset + p->length > (uint64_t)INT64_MAX ||
	    p->length > SIZE_MAX - SEAL_HUGE)
		return SEAL_FAIL(-EINVAL, err, errlen, "%s: range %llu+%llu is too large", path,
				 (unsigned long long)p->offset, (unsigned long long)p->length);
	return 0;
}

/* -EOPNOTSUPP with the way out when fd is not on fs-dax. */
int seal_check_dax(int fd, const char *path, char *err, size_t errlen)
{
	struct statx stx;
	void *probe;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_DAX) && !(stx.stx_attributes & STATX_ATTR_DAX))
		return SEAL_FAIL(-EOPNOTSUPP, err, errlen,
				 "%s: not on a DAX file system (statx reports no DAX); set mode = pagecache in the export to serve it through the page cache",
				 path);
	probe = FAULT("prep.probe", ENOMEM)
		    ? MAP_FAILED
		    : mmap(NULL, seal_page(), PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (probe == MAP_FAILED && (errno == EOPNOTSUPP || errno == EINVAL))
		return SEAL_FAIL(-EOPNOTSUPP, err, errlen,
				 "%s: not on a DAX file system (mmap with MAP_SYNC refused); set mode = pagecache in the export to serve it through the page cache",
				 path);
	if (probe != MAP_FAILED)
		munmap(probe, seal_page());
	return 0;
}

struct seal_file *seal_file_find(struct seal_registry *reg, uint64_t dev, uint64_t ino)
{
	for (struct seal_file *f = reg->files; f; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f;
	return NULL;
}

/*
 * xfs lets a descriptor opened for write before the flag was set go on
 * writing and truncating the immutable file (measured on 7.2; ext4 refuses
 * both), so a file someone else has open for write cannot be sealed. A read
 * lease is granted only while nobody has the file open for write.
 */
static int seal_check_writers(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), e;

	if (fd < 0)
		return 0; /* the open for write says why */
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
		close(fd);
		return 0;
	}
	e = errno;
	close(fd);
	if (e == EAGAIN)
		return SEAL_FAIL(-EBUSY, err, errlen,
				 "%s: another process has it open for write, and could go on writing and truncating it while sealed; close it there first (fuser -v shows who)",
				 path);
	LOG_INFO("seal: %s: cannot check for other writers (F_SETLEASE: %s)", path, strerror(e));
	return 0;
}

/* Opens the file of a first seal; *pre_immutable when +i was there before. */
static int seal_file_open(const struct seal_params *p, int *fdp, bool *pre_immutable,
			  char *err, size_t errlen)
{
	bool cap = seal_have_cap_immutable();
	int fd, flags, e;

	*pre_immutable = false;
	e = seal_check_writers(p->path, err, errlen);
	if (e < 0)
		return e;
	fd = open(p->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	if (fd < 0 && e == EPERM) {
		/* Immutable (or append-only) already: only a read-only seal can be. */
		fd = open(p->path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && seal_get_flags(fd, &flags) == 0 && (flags & FS_IMMUTABLE_FL) &&
		    !p->writable && cap) {
			*pre_immutable = true;
			*fdp = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (!cap)
			goto err_no_cap;
		return SEAL_FAIL(-EACCES, err, errlen,
				 "%s: cannot open it for write: it is immutable or append-only and not by this registry (lsattr shows it); a writable seal needs write access: lift the flag with chattr -i, or seal it read-only",
				 p->path);
	}
	if (fd < 0 && e == EACCES)
		return SEAL_FAIL(-EACCES, err, errlen,
				 "%s: no write access to the file%s; sealing needs both write access and CAP_LINUX_IMMUTABLE",
				 p->path, cap ? "" : " and no CAP_LINUX_IMMUTABLE");
	if (fd < 0)
		return SEAL_FAIL(-e, err, errlen, "%s: open for write: %s", p->path, strerror(e));
	if (!cap) {
		close(fd);
		goto err_no_cap;
	}
	*fdp = fd;
	return 0;

err_no_cap:
	return SEAL_FAIL(-EACCES, err, errlen,
			 "%s: no CAP_LINUX_IMMUTABLE: sealing sets the immutable flag; run with that capability (e.g. AmbientCapabilities=CAP_LINUX_IMMUTABLE)",
			 p->path);
}

void seal_file_free(struct seal_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

/* A new seal_file for a first seal of the file; not yet in the registry. */
static int seal_file_new(struct seal_registry *reg, const struct seal_params *p,
			 struct seal_file **out, char *err, size_t errlen)
{
	struct seal_file *f = FAULT("prep.file", ENOMEM) ? NULL : calloc(1, sizeof(*f));
	bool pre;
	struct stat st;
	int rc;

	if (f == NULL)
		return SEAL_FAIL(-ENOMEM, err, errlen, "%s: %s", p->path, strerror(ENOMEM));
	f->reg = reg;
	f->wd = -1;
	rc = seal_file_open(p, &f->fd, &pre, err, errlen);
	if (rc < 0) {
		f->fd = -1;
		goto err_free;
	}
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = SEAL_FAIL(-EINVAL, err, errlen, "%s: not a regular file", p->path);
		goto err_free;
	}
	fcntl(f->fd, F_SETFL, 0); /* O_NONBLOCK only guarded the open */
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = (uint64_t)st.st_size;
	f->rdonly = pre;
	f->path = realpath(p->path, NULL);
	if (f->path == NULL) {
		rc = SEAL_FAIL(-errno, err, errlen, "%s: realpath: %s", p->path, strerror(errno));
		goto err_free;
	}
	if (!pre) {
		int flags;

		rc = seal_get_flags(f->fd, &flags);
		if (rc < 0) {
			rc = SEAL_FAIL(rc, err, errlen,
				       "%s: cannot read its inode flags (FS_IOC_GETFLAGS: %s): this file system cannot seal",
				       p->path, strerror(-rc));
			goto err_free;
		}
	}
	*out = f;
	return 0;

err_free:
	seal_file_free(f);
	return rc;
}

/* Is [off, off+len) already clean and inside the file? Also refuses shared. */
static int seal_precheck(struct seal_file *f, const struct seal_params *p, bool *clean,
			 char *err, size_t errlen)
{
	struct fiemap_report rep;
	uint64_t end = p->offset + p->length;
	char what[256];
	int rc;

	*clean = false;
	if (p->offset >= f->size)
		return 0;
	rc = fiemap_check(f->fd, p->offset, (end < f->size ? end : f->size) - p->offset, 1, &rep);
	if (rc == -EOPNOTSUPP && p->mode == SEAL_MODE_PAGECACHE)
		return 0; /* tmpfs: no FIEMAP; seal_prove checks with SEEK_HOLE */
	if (rc < 0)
		return SEAL_FAIL(rc, err, errlen, "%s: FIEMAP over %llu+%llu: %s", f->path,
				 (unsigned long long)p->offset, (unsigned long long)p->length,
				 strerror(-rc));
	if ((rep.kinds & FIEMAP_KIND_SHARED) && !p->unshare)
		return SEAL_FAIL(-ETXTBSY, err, errlen,
				 "%s: %llu bytes of %llu+%llu are in shared (reflinked) extents, which a write fault would have to copy; set unshare = yes in the export (sealtool --unshare) to unshare them before sealing",
				 f->path, (unsigned long long)fiemap_report_bytes(&rep, FIEMAP_KIND_SHARED),
				 (unsigned long long)p->offset, (unsigned long long)p->length);
	*clean = fiemap_report_clean(&rep) && end <= f->size;
	if (!*clean && f->rdonly)
		return SEAL_FAIL(-EACCES, err, errlen,
				 "%s: range %llu+%llu needs allocation (%s) but the file was immutable before and is opened read-only; lift the flag with chattr -i to let sealmr prepare it",
				 f->path, (unsigned long long)p->offset, (unsigned long long)p->length,
				 end > f->size ? "past the end of the file" :
				 fiemap_report_str(&rep, what, sizeof(what)));
	return 0;
}

/*
 * Without FIEMAP (tmpfs): SEEK_HOLE finds what is not backed yet, and on
 * shmem that includes fallocated pages never written. Zeros written there
 * keep the data and leave no fault that allocates.
 */
static int seal_zero_holes(int fd, uint64_t off, uint64_t len, uint64_t *zeroed)
{
	static const char zeros[64 * 1024];
	uint64_t end = off + len;
	off_t hole, data;

	while (off < end) {
		hole = lseek(fd, (off_t)off, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole >= end)
			break;
		data = lseek(fd, hole, SEEK_DATA);
		if (data < 0 && errno != ENXIO)
			return -errno;
		if (data < 0 || (uint64_t)data > end)
			data = (off_t)end;
		for (off_t o = hole; o < data;) {
			size_t n = (size_t)(data - o) < sizeof(zeros) ? (size_t)(data - o) : sizeof(zeros);
			ssize_t w = pwrite(fd, zeros, n, o);

			if (w < 0)
				return -errno;
			o += w;
			*zeroed += (uint64_t)w;
		}
		off = (uint64_t)data;
	}
	return 0;
}

/* After the preparation: the range must be clean now. */
static int seal_prove(struct seal_file *f, const struct seal_params *p, char *err, size_t errlen)
{
	struct fiemap_report rep;
	char what[256];
	off_t hole;
	int rc = fiemap_check(f->fd, p->offset, p->length, 1, &rep);

	if (rc == -EOPNOTSUPP && p->mode == SEAL_MODE_PAGECACHE) {
		hole = lseek(f->fd, (off_t)p->offset, SEEK_HOLE);
		if (hole >= 0 && (uint64_t)hole < p->offset + p->length)
			return SEAL_FAIL(-EIO, err, errlen, "%s: a hole is left at %lld after fallocate",
					 f->path, (long long)hole);
		LOG_INFO("seal: %s: no FIEMAP on this file system; SEEK_HOLE finds no hole in %llu+%llu",
			 f->path, (unsigned long long)p->offset, (unsigned long long)p->length);
		return 0;
	}
	if (rc < 0)
		return SEAL_FAIL(rc, err, errlen, "%s: FIEMAP: %s", f->path, strerror(-rc));
	if (fiemap_report_clean(&rep))
		return 0;
	fiemap_report_str(&rep, what, sizeof(what));
	if (rep.kinds & FIEMAP_KIND_SHARED)
		return SEAL_FAIL(-ETXTBSY, err, errlen, "%s: still shared after unsharing: %s",
				 f->path, what);
	return SEAL_FAIL(-EIO, err, errlen,
			 "%s: range %llu+%llu is not fully allocated and written after preparing it: %s",
			 f->path, (unsigned long long)p->offset, (unsigned long long)p->length, what);
}

/* Extend, allocate, unshare, write zeros over holes and unwritten extents. */
static int seal_fill(struct seal_file *f, const struct seal_params *p, char *err, size_t errlen)
{
	uint64_t end = p->offset + p->length, zeroed = 0;
	struct stat st;
	int rc;

	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < end && ftruncate(f->fd, (off_t)end) < 0)
		return SEAL_FAIL(-errno, err, errlen, "%s: ftruncate to %llu: %s", f->path,
				 (unsigned long long)end, strerror(errno));
	if (fallocate(f->fd, 0, (off_t)p->offset, (off_t)p->length) < 0 && errno != EOPNOTSUPP)
		return SEAL_FAIL(-errno, err, errlen, "%s: fallocate(%llu+%llu): %s%s", f->path,
				 (unsigned long long)p->offset, (unsigned long long)p->length,
				 strerror(errno), errno == ENOSPC ? ": the file system is full" : "");
	if (p->unshare &&
	    fallocate(f->fd, FALLOC_FL_UNSHARE_RANGE, (off_t)p->offset, (off_t)p->length) < 0 &&
	    errno != EOPNOTSUPP)
		return SEAL_FAIL(-errno, err, errlen, "%s: unshare (FALLOC_FL_UNSHARE_RANGE): %s",
				 f->path, strerror(errno));
	if (FAULT("prep.fsync", EIO) || fsync(f->fd) < 0)
		return SEAL_FAIL(-errno, err, errlen, "%s: fsync: %s", f->path, strerror(errno));
	rc = fiemap_zero_fill(f->fd, p->offset, p->length, &zeroed);
	if (rc == -EOPNOTSUPP && p->mode == SEAL_MODE_PAGECACHE)
		rc = seal_zero_holes(f->fd, p->offset, p->length, &zeroed);
	if (rc < 0)
		return SEAL_FAIL(rc, err, errlen,
				 "%s: writing zeros over holes and unwritten extents of %llu+%llu: %s",
				 f->path, (unsigned long long)p->offset, (unsigned long long)p->length,
				 strerror(-rc));
	if (FAULT("prep.fsync_zeroed", EIO) || fsync(f->fd) < 0)
		return SEAL_FAIL(-errno, err, errlen, "%s: fsync: %s", f->path, strerror(errno));
	if (zeroed)
		LOG_INFO("seal: %s: wrote %llu bytes of zeros over holes and unwritten extents in %llu+%llu",
			 f->path, (unsigned long long)zeroed, (unsigned long long)p->offset,
			 (unsigned long long)p->length);
	return 0;
}

/*
 * Makes the range clean. A file we sealed already carries the flag, which
 * also stops us: lift it for the preparation and put it back.
 */
int seal_prepare(struct seal_file *f, const struct seal_params *p, char *err, size_t errlen)
{
	bool clean, relift = false;
	struct stat st;
	int rc;

	rc = seal_precheck(f, p, &clean, err, errlen);
	if (rc < 0 || clean)
		return rc;
	if (f->ours && f->refs > 0) {
		LOG_NOTICE("seal: %s: lifting the immutable flag while %llu+%llu is prepared",
			   f->path, (unsigned long long)p->offset, (unsigned long long)p->length);
		rc = seal_set_immutable(f->fd, false);
		if (rc < 0)
			return SEAL_FAIL(rc, err, errlen, "%s: lifting the flag to prepare: %s",
					 f->path, strerror(-rc));
		relift = true;
	}
	rc = seal_fill(f, p, err, errlen);
	if (rc == 0)
		rc = seal_prove(f, p, err, errlen);
	if (rc < 0 && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->size) {
		/* a refused seal leaves the size as it found it */
		if (ftruncate(f->fd, (off_t)f->size) < 0)
			LOG_WARN("seal: %s: cannot truncate back to %llu: %s", f->path,
				 (unsigned long long)f->size, strerror(errno));
	}
	if (fstat(f->fd, &st) == 0)
		f->size = (uint64_t)st.st_size;
	if (relift) {
		int rc2 = seal_set_immutable(f->fd, true);

		if (rc2 < 0 && rc == 0)
			rc = SEAL_FAIL(rc2, err, errlen, "%s: setting the flag back: %s", f->path,
				       strerror(-rc2));
	}
	return rc;
}

/* The registry's seal_file for p->path, or a new one (refs not yet taken). */
int seal_file_get(struct seal_registry *reg, const struct seal_params *p,
			 struct seal_file **out, bool *fresh, char *err, size_t errlen)
{
	struct seal_file *f;
	struct stat st;

	if (stat(p->path, &st) < 0)
		return SEAL_FAIL(-errno, err, errlen, "%s: %s", p->path, strerror(errno));
	f = seal_file_find(reg, st.st_dev, st.st_ino);
	*fresh = f == NULL;
	if (f == NULL)
		return seal_file_new(reg, p, out, err, errlen);
	if (f->lost)
		return SEAL_FAIL(-EBUSY, err, errlen,
				 "%s: changed under an earlier seal; release the seals on it first",
				 p->path);
	if (p->writable && f->rdonly)
		return SEAL_FAIL(-EACCES, err, errlen,
				 "%s: immutable before it was sealed, so only read-only seals are possible",
				 p->path);
	*out = f;
	return 0;
}
