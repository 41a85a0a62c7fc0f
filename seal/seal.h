/* SPDX-License-Identifier: MIT */
/*
 * seal: MAP_DIRECT's promise with mainline means. A seal is a shared,
 * writable MAP_SHARED_VALIDATE|MAP_SYNC mapping of a range of a file whose
 * block map cannot change while the seal lives: the range is allocated,
 * written (no hole, unwritten, delalloc or shared extent, proven by FIEMAP)
 * before the mapping is made, and the file carries FS_IMMUTABLE_FL so that
 * nobody else can truncate, punch, reflink, rename over, unlink or open it
 * for write. Seals are counted per file; the last one lifts the flag. Every
 * flag the registry sets is journalled in the state directory so that a
 * restart after a crash lifts exactly those.
 *
 * All functions return 0 or a negative errno; where they take err/errlen
 * they also leave a message a person can act on there.
 */
#ifndef SEALMR_SEAL_H
#define SEALMR_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct seal_registry;
struct seal;

enum seal_mode {
	SEAL_MODE_DAX,       /* fs-dax, MAP_SYNC; refused elsewhere with -EOPNOTSUPP */
	SEAL_MODE_PAGECACHE, /* explicit opt-in: plain MAP_SHARED, msync persists */
};

struct seal_params {
	const char *path;
	uint64_t offset; /* of the range in the file */
	uint64_t length; /* the file is extended to offset + length if shorter */
	enum seal_mode mode;
	bool writable;   /* a read-only seal maps PROT_READ */
	bool unshare;    /* unshare reflinked extents instead of -ETXTBSY */
	int map_type;    /* MAP_SHARED (0 means MAP_SHARED); MAP_PRIVATE: -EINVAL */
};

/*
 * Opens the journal in state_dir (created if missing), lifts the stale seals
 * a previous run left behind (each logged), and starts watching sealed files
 * for changes behind its back.
 */
int seal_registry_new(const char *state_dir, struct seal_registry **out,
		      char *err, size_t errlen);
/* Releases every seal still held (each is logged), then frees. NULL is fine. */
void seal_registry_delete(struct seal_registry **reg);

/*
 * A file changed under a seal (flag cleared and the file modified, renamed
 * or deleted): the callback runs once for every seal on it; the owner is
 * expected to revoke what depends on the seal and delete it.
 */
typedef void (*seal_changed_fn)(struct seal *seal, const char *why, void *arg);
void seal_registry_set_changed_cb(struct seal_registry *reg, seal_changed_fn fn, void *arg);
/* The fd to watch for readability in the event loop, and what to call then. */
int seal_registry_fd(const struct seal_registry *reg);
void seal_registry_process(struct seal_registry *reg);
/* Re-checks every sealed file (a backstop for changes no event reports). */
void seal_registry_verify(struct seal_registry *reg);

/*
 * Seals params->offset .. +length of params->path. A writable page-cache seal
 * on a file system that refuses stores through a mapping of an immutable
 * file (ext4 without DAX) is guarded by a write lease instead of the flag:
 * another process that opens the file breaks it, and the periodic check then
 * reports the file changed (its grants are revoked) and lets the opener in.
 * Errors:
 * -EACCES  no write access to the file, or no CAP_LINUX_IMMUTABLE
 * -EINVAL  a private mapping, a zero or unaligned range
 * -EOPNOTSUPP  not on a DAX file system (mode dax)
 * -ETXTBSY a shared (reflinked) extent in the range and unshare is off
 * -ENOSPC  the range cannot be allocated
 * -EBUSY   another process has the file open (a leased seal), or open for write (on xfs such a
 *          writer could still write and truncate the immutable file), or a
 *          change was seen under an earlier seal of the file that is still held
 * and what open, fallocate, mmap or the flag ioctl return.
 */
int seal_new(struct seal_registry *reg, const struct seal_params *params,
	     struct seal **out, char *err, size_t errlen);
/* Unmaps; lifts the flag when this was the file's last seal. NULL is fine. */
void seal_delete(struct seal **seal);

void *seal_addr(const struct seal *seal);
uint64_t seal_length(const struct seal *seal);
uint64_t seal_offset(const struct seal *seal);
const char *seal_path(const struct seal *seal);
enum seal_mode seal_get_mode(const struct seal *seal);

/*
 * Makes off .. off+len of the sealed range durable: cache-line write-back
 * and a fence on fs-dax (MAP_SYNC keeps the metadata durable), msync in
 * page-cache mode.
 */
int seal_persist(struct seal *seal, uint64_t off, uint64_t len);

#endif
