/* SPDX-License-Identifier: MIT */
/*
 * fiemap: what the block map of a file range looks like, from FS_IOC_FIEMAP.
 * Works on any file system that implements FIEMAP (ext4, xfs, btrfs, tmpfs
 * does not). A range is "clean" when every byte of it lies in an allocated,
 * written, unshared extent at a known location: nothing a fault would have
 * to allocate, convert or copy.
 */
#ifndef SEALMR_FIEMAP_H
#define SEALMR_FIEMAP_H

#include <stddef.h>
#include <stdint.h>

/* What a segment of the range is; a segment may be several at once. */
enum fiemap_kind {
	FIEMAP_KIND_DATA = 0,          /* allocated, written, unshared */
	FIEMAP_KIND_HOLE = 1 << 0,     /* no extent at all */
	FIEMAP_KIND_UNWRITTEN = 1 << 1, /* allocated, reads as zeros */
	FIEMAP_KIND_DELALLOC = 1 << 2, /* dirty, not yet allocated */
	FIEMAP_KIND_SHARED = 1 << 3,   /* reflinked: a write would copy */
	FIEMAP_KIND_UNKNOWN = 1 << 4,  /* unknown/encoded/inline: no stable location */
};

/*
 * Called for every segment of [off, off+len) in file order, clipped to the
 * range; a non-zero return stops the walk and is returned by fiemap_walk.
 */
typedef int (*fiemap_segment_fn)(uint64_t off, uint64_t len, unsigned kinds, void *arg);

/*
 * Walks the block map of [off, off+len) of fd. sync asks the file system to
 * write back dirty data first (FIEMAP_FLAG_SYNC). Returns 0, the callback's
 * non-zero return, or a negative errno (-EOPNOTSUPP: no FIEMAP here).
 */
int fiemap_walk(int fd, uint64_t off, uint64_t len, int sync, fiemap_segment_fn fn, void *arg);

struct fiemap_report {
	uint64_t bytes[5];      /* bytes of each problem kind, by bit index */
	uint64_t segments;      /* segments seen, clean ones included */
	unsigned kinds;         /* union of the kinds seen */
	uint64_t first_bad_off; /* offset and kinds of the first bad segment */
	uint64_t first_bad_len;
	unsigned first_bad_kinds;
};

/* Fills rep for [off, off+len); 0 or a negative errno. */
int fiemap_check(int fd, uint64_t off, uint64_t len, int sync, struct fiemap_report *rep);

static inline int fiemap_report_clean(const struct fiemap_report *rep)
{
	return rep->kinds == FIEMAP_KIND_DATA;
}

/* Bytes of one kind (a single FIEMAP_KIND_* bit) in the report. */
uint64_t fiemap_report_bytes(const struct fiemap_report *rep, unsigned kind);

/*
 * Writes zeros over every hole and unwritten segment of [off, off+len) of fd
 * (opened for write), so that they become written extents; data elsewhere is
 * left alone. Delalloc segments are not touched (they hold dirty data: fsync
 * first). *zeroed (may be NULL) gets the bytes written. 0 or a negative errno.
 */
int fiemap_zero_fill(int fd, uint64_t off, uint64_t len, uint64_t *zeroed);

/* "hole, unwritten" for a kinds mask; "data" for 0. Returns buf. */
char *fiemap_kinds_str(unsigned kinds, char *buf, size_t buflen);

/*
 * One line for a person: "clean" or e.g. "hole 4096 bytes, unwritten 8192
 * bytes; first at 0+4096 (hole)". Returns buf.
 */
char *fiemap_report_str(const struct fiemap_report *rep, char *buf, size_t buflen);

#endif
