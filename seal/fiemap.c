/* SPDX-License-Identifier: MIT */
/*
 * fiemap: walks FS_IOC_FIEMAP over a byte range and names every segment of
 * it: data, hole (a gap between extents, or past the last one), unwritten,
 * delalloc, shared, unknown. The extent array is fetched in batches, so any
 * number of extents works.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "fault.h"
#include "fiemap.h"

#define FIEMAP_BATCH 128

#define FIEMAP_UNKNOWN_FLAGS                                                   \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_ENCODED |                       \
	 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL |                 \
	 FIEMAP_EXTENT_NOT_ALIGNED)

static const char *const fiemap_kind_names[] = {
	"hole", "unwritten", "delalloc", "shared", "unknown",
};

static unsigned fiemap_kinds_of(uint32_t flags)
{
	unsigned kinds = FIEMAP_KIND_DATA;

	if (flags & FIEMAP_EXTENT_UNWRITTEN)
		kinds |= FIEMAP_KIND_UNWRITTEN;
	if (flags & FIEMAP_EXTENT_DELALLOC)
		kinds |= FIEMAP_KIND_DELALLOC;
	if (flags & FIEMAP_EXTENT_SHARED)
		kinds |= FIEMAP_KIND_SHARED;
	/* Delalloc extents also carry UNKNOWN: the location is not known yet. */
	if ((flags & FIEMAP_UNKNOWN_FLAGS) && !(flags & FIEMAP_EXTENT_DELALLOC))
		kinds |= FIEMAP_KIND_UNKNOWN;
	return kinds;
}

/* Reports the extents of one batch; advances *cur, sets *done at the end. */
static int fiemap_batch(const struct fiemap *fm, uint64_t *cur, uint64_t end, int *done,
			fiemap_segment_fn fn, void *arg)
{
	for (uint32_t i = 0; i < fm->fm_mapped_extents; i++) {
		const struct fiemap_extent *fe = &fm->fm_extents[i];
		uint64_t s = fe->fe_logical, e = fe->fe_logical + fe->fe_length;
		int rc;

		if (e <= *cur)
			continue;
		if (s > *cur) {
			rc = fn(*cur, (s < end ? s : end) - *cur, FIEMAP_KIND_HOLE, arg);
			if (rc)
				return rc;
			*cur = s;
		}
		if (*cur >= end) {
			*done = 1;
			return 0;
		}
		rc = fn(*cur, (e < end ? e : end) - *cur, fiemap_kinds_of(fe->fe_flags), arg);
		if (rc)
			return rc;
		*cur = e < end ? e : end;
		if ((fe->fe_flags & FIEMAP_EXTENT_LAST) || *cur >= end)
			*done = 1;
	}
	if (fm->fm_mapped_extents < fm->fm_extent_count)
		*done = 1;
	return 0;
}

int fiemap_walk(int fd, uint64_t off, uint64_t len, int sync, fiemap_segment_fn fn, void *arg)
{
	uint64_t end = off + len, cur = off;
	struct fiemap *fm;
	int done = 0, rc = 0;

	if (len == 0 || end < off || fn == NULL)
		return -EINVAL;
	fm = FAULT("fiemap.new", ENOMEM)
		 ? NULL
		 : calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (fm == NULL)
		return -ENOMEM;
	while (!done && cur < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = cur;
		fm->fm_length = end - cur;
		fm->fm_flags = sync ? FIEMAP_FLAG_SYNC : 0;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			rc = errno == ENOTTY ? -EOPNOTSUPP : -errno;
			goto out_free;
		}
		sync = 0; /* once is enough */
		if (fm->fm_mapped_extents == 0)
			break;
		rc = fiemap_batch(fm, &cur, end, &done, fn, arg);
		if (rc)
			goto out_free;
	}
	if (cur < end)
		rc = fn(cur, end - cur, FIEMAP_KIND_HOLE, arg);
out_free:
	free(fm);
	return rc;
}

static int fiemap_check_segment(uint64_t off, uint64_t len, unsigned kinds, void *arg)
{
	struct fiemap_report *rep = arg;

	rep->segments++;
	if (kinds == FIEMAP_KIND_DATA)
		return 0;
	if (rep->kinds == FIEMAP_KIND_DATA) {
		rep->first_bad_off = off;
		rep->first_bad_len = len;
		rep->first_bad_kinds = kinds;
	}
	rep->kinds |= kinds;
	for (unsigned b = 0; b < 5; b++)
		if (kinds & (1u << b))
			rep->bytes[b] += len;
	return 0;
}

int fiemap_check(int fd, uint64_t off, uint64_t len, int sync, struct fiemap_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return fiemap_walk(fd, off, len, sync, fiemap_check_segment, rep);
}

static const char fiemap_zeros[64 * 1024];

struct fiemap_zero_state {
	int fd;
	uint64_t zeroed;
};

static int fiemap_zero_segment(uint64_t off, uint64_t len, unsigned kinds, void *arg)
{
	struct fiemap_zero_state *st = arg;
	struct iovec iov[16];
	const uint64_t max = sizeof(iov) / sizeof(iov[0]) * sizeof(fiemap_zeros);

	if (!(kinds & (FIEMAP_KIND_HOLE | FIEMAP_KIND_UNWRITTEN)) ||
	    (kinds & FIEMAP_KIND_DELALLOC))
		return 0;
	while (len > 0) {
		uint64_t left = len < max ? len : max;
		int n = 0;
		ssize_t w;

		for (; left > 0; n++) {
			iov[n].iov_base = (void *)fiemap_zeros;
			iov[n].iov_len = left < sizeof(fiemap_zeros) ? left : sizeof(fiemap_zeros);
			left -= iov[n].iov_len;
		}
		w = pwritev(st->fd, iov, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
		st->zeroed += (uint64_t)w;
	}
	return 0;
}

int fiemap_zero_fill(int fd, uint64_t off, uint64_t len, uint64_t *zeroed)
{
	struct fiemap_zero_state st = { .fd = fd, .zeroed = 0 };
	int rc = fiemap_walk(fd, off, len, 1, fiemap_zero_segment, &st);

	if (zeroed)
		*zeroed = st.zeroed;
	return rc;
}

uint64_t fiemap_report_bytes(const struct fiemap_report *rep, unsigned kind)
{
	for (unsigned b = 0; b < 5; b++)
		if (kind == (1u << b))
			return rep->bytes[b];
	return 0;
}

char *fiemap_kinds_str(unsigned kinds, char *buf, size_t buflen)
{
	size_t n = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	if (kinds == FIEMAP_KIND_DATA) {
		snprintf(buf, buflen, "data");
		return buf;
	}
	for (unsigned b = 0; b < 5 && n < buflen; b++) {
		if (!(kinds & (1u << b)))
			continue;
		n += (size_t)snprintf(buf + n, buflen - n, "%s%s", n ? ", " : "",
				      fiemap_kind_names[b]);
	}
	return buf;
}

char *fiemap_report_str(const struct fiemap_report *rep, char *buf, size_t buflen)
{
	char kinds[64];
	size_t n = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	if (fiemap_report_clean(rep)) {
		snprintf(buf, buflen, "clean");
		return buf;
	}
	for (unsigned b = 0; b < 5 && n < buflen; b++) {
		if (!(rep->kinds & (1u << b)))
			continue;
		n += (size_t)snprintf(buf + n, buflen - n, "%s%s %llu bytes", n ? ", " : "",
				      fiemap_kind_names[b], (unsigned long long)rep->bytes[b]);
	}
	if (n < buflen)
		snprintf(buf + n, buflen - n, "; first at %llu+%llu (%s)",
			 (unsigned long long)rep->first_bad_off,
			 (unsigned long long)rep->first_bad_len,
			 fiemap_kinds_str(rep->first_bad_kinds, kinds, sizeof(kinds)));
	return buf;
}
