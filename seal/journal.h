/* SPDX-License-Identifier: MIT */
/*
 * journal: the seal journal in the state directory. One record (dev, ino,
 * path) for every FS_IMMUTABLE_FL the registry set, written before the flag
 * is set and removed after it is lifted, so that a restart after a crash can
 * lift exactly the flags the previous run left behind.
 *
 * The file (STATE_DIR/seal.journal) is text, one record a line:
 *   sealmr-seal-journal 1
 *   <dev, hex> <ino, decimal> <path, bytes < 0x21, '%' and 0x7f as %XX>
 * Every change rewrites it: write to a temporary file, fsync, rename over,
 * fsync the directory. STATE_DIR/seal.lock (flock) keeps a second process
 * from using the same state directory while the first one lives.
 */
#ifndef SEALMR_JOURNAL_H
#define SEALMR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct journal;

struct journal_entry {
	uint64_t dev;
	uint64_t ino;
	char *path;
};

/*
 * Opens (creating state_dir if missing) and loads the journal. -EBUSY when
 * another process holds the state directory. Malformed lines are logged and
 * dropped.
 */
int journal_open(const char *state_dir, struct journal **out, char *err, size_t errlen);
/* NULL is fine. Keeps the file as it is: what is in it stays for the next run. */
void journal_close(struct journal **j);

size_t journal_count(const struct journal *j);
const struct journal_entry *journal_get(const struct journal *j, size_t i);
/* The journal file's path (for messages). */
const char *journal_path(const struct journal *j);

/* Adds a record (replacing one with the same dev+ino) and writes the file. */
int journal_add(struct journal *j, uint64_t dev, uint64_t ino, const char *path);
/* Removes the record of dev+ino (absent is fine) and writes the file. */
int journal_remove(struct journal *j, uint64_t dev, uint64_t ino);

/*
 * Hands every record to fn, which says 1 (undone), 0 (nothing to undo) or
 * a negative errno (failed); drops the records but the failed ones (kept
 * for the next run). What to undo and how is the caller's: the seal
 * registry passes seal_lift_stale. Returns how many fn undid, or a
 * negative errno when the journal could not be written.
 */
typedef int (*journal_replay_fn)(uint64_t dev, uint64_t ino, const char *path, void *arg);
int journal_replay(struct journal *j, journal_replay_fn fn, void *arg);

#endif
