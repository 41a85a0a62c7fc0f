/* SPDX-License-Identifier: MIT */
/*
 * seal-internal: what seal.c (registry, seals, mappings), seal-prep.c (the
 * checks and the preparation of a range before it is sealed) and
 * seal-watch.c (the safety net) share. Not for other modules.
 */
#ifndef SEALMR_SEAL_INTERNAL_H
#define SEALMR_SEAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "seal.h"

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define SEAL_HUGE (2ull << 20)
#define SEAL_WATCH_MASK (IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)
#define SEAL_WHY_MAX 512

struct seal_file {
	struct seal_file *next;
	struct seal_registry *reg;
	uint64_t dev, ino;
	uint64_t size;     /* what the file's size must stay */
	char *path;        /* canonical, for the journal and messages */
	int fd;            /* O_RDWR, or O_RDONLY for a file immutable before */
	int wd;            /* inotify watch, -1 if none */
	unsigned refs;     /* seals plus temporary holds */
	bool ours;         /* we set FS_IMMUTABLE_FL (and journalled it) */
	bool rdonly;       /* immutable before: opened read-only, never changed */
	bool lost;         /* changed behind our back, reported */
	bool leased;       /* guarded by a write lease instead of the flag */
	struct seal *seals;
};

struct seal {
	struct seal_file *file;
	struct seal *next;
	void *addr;
	size_t map_len; /* page-rounded */
	uint64_t offset, length;
	enum seal_mode mode;
	bool writable;
	bool notified;
};

struct seal_registry {
	struct journal *journal;
	int ino_fd;
	struct seal_file *files;
	seal_changed_fn cb;
	void *cb_arg;
};

void seal_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Logs the message with rc's errno and file:line, leaves it in err, returns rc. */
int seal_fail_at(const char *file, int line, int rc, char *err, size_t errlen, const char *fmt,
		 ...) __attribute__((format(printf, 6, 7)));
#define SEAL_FAIL(rc_, err_, errlen_, ...)                                     \
	seal_fail_at(__FILE__, __LINE__, rc_, err_, errlen_, __VA_ARGS__)

size_t seal_page(void);
int seal_get_flags(int fd, int *flags);
int seal_set_immutable(int fd, bool on);
/* journal_replay's callback at start (seal-stale.c): lifts a stale flag. */
int seal_lift_stale(uint64_t dev, uint64_t ino, const char *path, void *arg);

/* seal-prep.c */
int seal_check_params(const struct seal_params *p, char *err, size_t errlen);
int seal_check_dax(int fd, const char *path, char *err, size_t errlen);
struct seal_file *seal_file_find(struct seal_registry *reg, uint64_t dev, uint64_t ino);
int seal_file_get(struct seal_registry *reg, const struct seal_params *p,
		  struct seal_file **out, bool *fresh, char *err, size_t errlen);
void seal_file_free(struct seal_file *f);
int seal_prepare(struct seal_file *f, const struct seal_params *p, char *err, size_t errlen);

/* seal.c */
void seal_file_put(struct seal_file *f);

#endif
