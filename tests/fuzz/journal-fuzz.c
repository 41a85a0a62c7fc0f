/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the seal journal's reader: every input is the
 * seal.journal of a scratch state directory, opened with journal_open and
 * replayed with journal_replay. Whatever the file holds, the journal opens
 * (malformed records are dropped, not fatal), hands each record it kept to
 * the replay callback once and in order, and what the replay rewrote reads
 * back as the very records it kept. A broken property aborts, which
 * libFuzzer reports as a crash; a leak is reported by LeakSanitizer.
 *
 * Built and run by tests/fuzz/run (which points TMPDIR at its scratch
 * directory, on tmpfs if it can).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "journal-fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* Where a record goes on replay: decided by its inode, so that it is the same every time. */
enum { FUZZ_UNDONE, FUZZ_NOTHING, FUZZ_FAILED };

struct fuzz_rec {
	uint64_t dev, ino;
	char *path;
};

struct fuzz_recs {
	struct fuzz_rec *r;
	size_t n;
};

struct fuzz_replay {
	const struct fuzz_recs *before;
	size_t next; /* the record the callback should see now */
	int undone;
};

static char fuzz_dir[4096], fuzz_state[4096 + 16], fuzz_file[4096 + 32];

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void fuzz_cleanup(void)
{
	nftw(fuzz_dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	/* Malformed records are logged: millions of warnings say nothing. */
	log_init("journal-fuzz", LOG_LEVEL_ERROR, 0);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/journal-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
	atexit(fuzz_cleanup);
	snprintf(fuzz_state, sizeof(fuzz_state), "%s/state", fuzz_dir);
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/seal.journal", fuzz_state);
	FUZZ_CHECK(mkdir(fuzz_state, 0700) == 0);
	return 0;
}

static int fuzz_fate(uint64_t ino)
{
	return (int)(ino % 3);
}

/* No more records than lines: each comes from a line of its own. */
static size_t fuzz_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

static void fuzz_snapshot(const struct journal *j, struct fuzz_recs *out)
{
	out->n = journal_count(j);
	out->r = calloc(out->n ? out->n : 1, sizeof(*out->r));
	FUZZ_CHECK(out->r);
	for (size_t i = 0; i < out->n; i++) {
		const struct journal_entry *e = journal_get(j, i);

		FUZZ_CHECK(e && e->path);
		/* An absolute path: the registry journals canonical ones only. */
		FUZZ_CHECK(e->path[0] == '/');
		out->r[i] = (struct fuzz_rec){ .dev = e->dev, .ino = e->ino, .path = strdup(e->path) };
		FUZZ_CHECK(out->r[i].path);
	}
	FUZZ_CHECK(journal_get(j, out->n) == NULL);
}

static void fuzz_free(struct fuzz_recs *recs)
{
	for (size_t i = 0; i < recs->n; i++)
		free(recs->r[i].path);
	free(recs->r);
}

/* j holds exactly the records of want whose fate is keep (all of them if keep < 0). */
static void fuzz_expect(const struct journal *j, const struct fuzz_recs *want, int keep)
{
	size_t k = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct fuzz_rec *w = &want->r[i];
		const struct journal_entry *e;

		if (keep >= 0 && fuzz_fate(w->ino) != keep)
			continue;
		e = journal_get(j, k++);
		FUZZ_CHECK(e != NULL);
		FUZZ_CHECK(e->dev == w->dev && e->ino == w->ino);
		if (strcmp(e->path, w->path)) {
			fprintf(stderr, "journal-fuzz: record %zu: '%s' came back as '%s'\n", i,
				w->path, e->path);
			FUZZ_CHECK(!strcmp(e->path, w->path));
		}
	}
	FUZZ_CHECK(journal_count(j) == k);
}

static int fuzz_replay_fn(uint64_t dev, uint64_t ino, const char *path, void *arg)
{
	struct fuzz_replay *r = arg;
	const struct fuzz_rec *w;

	FUZZ_CHECK(r->next < r->before->n);
	w = &r->before->r[r->next++];
	FUZZ_CHECK(dev == w->dev && ino == w->ino && path && !strcmp(path, w->path));
	switch (fuzz_fate(ino)) {
	case FUZZ_UNDONE:
		r->undone++;
		return 1;
	case FUZZ_NOTHING:
		return 0;
	default:
		return -EPERM;
	}
}

static void fuzz_write_journal(const uint8_t *data, size_t size)
{
	int fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(close(fd) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_recs before;
	struct fuzz_replay replay = { .before = &before };
	struct journal *j = NULL;
	char err[512] = "";
	int rc;

	fuzz_write_journal(data, size);
	rc = journal_open(fuzz_state, &j, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "journal-fuzz: journal_open: %d: %s\n", rc, err);
		FUZZ_CHECK(rc == 0);
	}
	fuzz_snapshot(j, &before);
	FUZZ_CHECK(before.n <= fuzz_lines(data, size));

	rc = journal_replay(j, fuzz_replay_fn, &replay);
	if (rc < 0) {
		fprintf(stderr, "journal-fuzz: journal_replay: %s\n", strerror(-rc));
		FUZZ_CHECK(rc >= 0);
	}
	FUZZ_CHECK(replay.next == before.n);
	FUZZ_CHECK(rc == replay.undone);
	fuzz_expect(j, &before, FUZZ_FAILED);
	journal_close(&j);
	FUZZ_CHECK(j == NULL);

	/* The failed ones are in the file for the next run, and nothing else. */
	FUZZ_CHECK(journal_open(fuzz_state, &j, err, sizeof(err)) == 0);
	fuzz_expect(j, &before, FUZZ_FAILED);
	journal_close(&j);
	fuzz_free(&before);
	return 0;
}
