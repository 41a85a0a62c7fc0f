/* SPDX-License-Identifier: MIT */
/*
 * sealtool: drives the seal API (seal/seal.h) from the shell, for the
 * integration tests and for people trying it by hand.
 *
 *   sealtool [--state DIR] [--debug] seal [--mode dax|pagecache] [--private]
 *            [--unshare] [--readonly] PATH OFFSET LENGTH [-- [OPTS] PATH OFFSET LENGTH]...
 *       Seals every range (options apply to the range they precede), prints
 *       "seal N PATH OFFSET+LENGTH" for each and then "sealed", and holds the
 *       seals until standard input ends, "quit" or SIGTERM/SIGINT. Commands on
 *       standard input, one a line:
 *         release N          releases seal N                 -> "released N"
 *         write N OFF TEXT   stores TEXT at OFF of seal N, persists -> "written N"
 *         verify             runs seal_registry_verify now   -> "verified"
 *       A changed seal prints "changed N via inotify|verify: WHY" and is
 *       released ("released N"). On failure: "error -ERRNO NAME: MESSAGE",
 *       and the exit code is ERRNO.
 *   sealtool [--state DIR] replay
 *       Opens the registry, which lifts the flags a killed run left behind.
 *   sealtool fiemap PATH [OFFSET LENGTH]
 *       Prints the segments of the range (default: the whole file) and a
 *       summary; exits 0 when clean, 1 when not, ERRNO on failure.
 *
 * Without --state a temporary state directory is made and removed at exit.
 * OFFSET and LENGTH take K, M and G suffixes (powers of 1024).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fiemap.h"
#include "log.h"
#include "seal.h"

#define SEALTOOL_MAX 64

static struct seal *sealtool_seals[SEALTOOL_MAX];
static unsigned sealtool_nseals;
static const char *sealtool_via = "?";

static int sealtool_usage(void)
{
	fprintf(stderr,
		"usage: sealtool [--state DIR] [--debug] seal [--mode dax|pagecache] [--private]\n"
		"                [--unshare] [--readonly] PATH OFFSET LENGTH [-- [OPTS] PATH OFFSET LENGTH]...\n"
		"       sealtool [--state DIR] replay\n"
		"       sealtool fiemap PATH [OFFSET LENGTH]\n");
	return 2;
}

static int sealtool_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void sealtool_fail(int rc, const char *msg)
{
	const char *name = strerrorname_np(-rc);

	printf("error %d %s: %s\n", rc, name ? name : "?", msg[0] ? msg : strerror(-rc));
	fflush(stdout);
}

/* Parses "[OPTS] PATH OFFSET LENGTH" from argv[*i]; stops after LENGTH. */
static int sealtool_parse_one(int argc, char **argv, int *i, struct seal_params *p)
{
	const char *pos[3];
	int npos = 0;

	*p = (struct seal_params){ .mode = SEAL_MODE_DAX, .writable = true, .map_type = MAP_SHARED };
	for (; *i < argc && npos < 3; (*i)++) {
		const char *a = argv[*i];

		if (!strcmp(a, "--mode") && *i + 1 < argc) {
			const char *m = argv[++*i];

			if (!strcmp(m, "dax"))
				p->mode = SEAL_MODE_DAX;
			else if (!strcmp(m, "pagecache"))
				p->mode = SEAL_MODE_PAGECACHE;
			else
				return -EINVAL;
		} else if (!strcmp(a, "--private")) {
			p->map_type = MAP_PRIVATE;
		} else if (!strcmp(a, "--unshare")) {
			p->unshare = true;
		} else if (!strcmp(a, "--readonly")) {
			p->writable = false;
		} else if (a[0] == '-' && a[1] == '-') {
			return -EINVAL;
		} else {
			pos[npos++] = a;
		}
	}
	if (npos != 3)
		return -EINVAL;
	p->path = pos[0];
	if (sealtool_size(pos[1], &p->offset) < 0 || sealtool_size(pos[2], &p->length) < 0)
		return -EINVAL;
	return 0;
}

static int sealtool_index(struct seal *s)
{
	for (unsigned i = 0; i < sealtool_nseals; i++)
		if (sealtool_seals[i] == s)
			return (int)i;
	return -1;
}

static void sealtool_release(unsigned n)
{
	if (n >= sealtool_nseals || sealtool_seals[n] == NULL) {
		printf("no seal %u\n", n);
		return;
	}
	seal_delete(&sealtool_seals[n]);
	printf("released %u\n", n);
}

static void sealtool_changed(struct seal *seal, const char *why, void *arg)
{
	int n = sealtool_index(seal);

	printf("changed %d via %s: %s\n", n, sealtool_via, why);
	if (n >= 0)
		sealtool_release((unsigned)n);
	fflush(stdout);
}

static void sealtool_write(unsigned n, const char *offs, const char *text)
{
	struct seal *s = n < sealtool_nseals ? sealtool_seals[n] : NULL;
	uint64_t off, len = strlen(text);
	int rc;

	if (s == NULL || sealtool_size(offs, &off) < 0 || off > seal_length(s) ||
	    len > seal_length(s) - off) {
		printf("bad write\n");
		return;
	}
	memcpy((char *)seal_addr(s) + off, text, len);
	rc = seal_persist(s, off, len);
	if (rc < 0)
		printf("persist failed: %s\n", strerror(-rc));
	else
		printf("written %u\n", n);
}

/* One command line from standard input; returns 1 to stop. */
static int sealtool_command(struct seal_registry *reg, const char *line)
{
	char offs[64];
	unsigned n;
	int pos = 0;

	if (!strcmp(line, "quit"))
		return 1;
	if (sscanf(line, "release %u", &n) == 1) {
		sealtool_release(n);
	} else if (sscanf(line, "write %u %63s %n", &n, offs, &pos) == 2 && pos > 0) {
		sealtool_write(n, offs, line + pos);
	} else if (!strcmp(line, "verify")) {
		sealtool_via = "verify";
		seal_registry_verify(reg);
		printf("verified\n");
	} else if (line[0]) {
		printf("unknown command: %s\n", line);
	}
	return 0;
}

static int sealtool_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Holds the seals: stdin commands, inotify, signals, a 1 s verify. */
static void sealtool_hold(struct seal_registry *reg)
{
	struct pollfd pfd[3] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = seal_registry_fd(reg), .events = POLLIN },
		{ .fd = sealtool_signalfd(), .events = POLLIN },
	};
	char line[4096];

	for (;;) {
		fflush(stdout);
		int n = poll(pfd, 3, 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			sealtool_via = "verify";
			seal_registry_verify(reg);
			continue;
		}
		if (pfd[2].revents)
			break;
		if (pfd[1].revents) {
			sealtool_via = "inotify";
			seal_registry_process(reg);
		}
		if (pfd[0].revents) {
			ssize_t r = read(STDIN_FILENO, line, sizeof(line) - 1);

			if (r <= 0)
				break;
			line[r] = '\0';
			for (char *save = NULL, *l = strtok_r(line, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save))
				if (sealtool_command(reg, l))
					goto out;
		}
	}
out:
	close(pfd[2].fd);
}

static int sealtool_seal(struct seal_registry *reg, int argc, char **argv)
{
	char err[1024];
	int i = 0, rc = 0;

	while (i < argc) {
		struct seal_params p;

		if (sealtool_nseals == SEALTOOL_MAX || sealtool_parse_one(argc, argv, &i, &p) < 0)
			return sealtool_usage();
		if (i < argc && strcmp(argv[i++], "--") != 0)
			return sealtool_usage();
		err[0] = '\0';
		rc = seal_new(reg, &p, &sealtool_seals[sealtool_nseals], err, sizeof(err));
		if (rc < 0) {
			sealtool_fail(rc, err);
			return -rc;
		}
		printf("seal %u %s %llu+%llu\n", sealtool_nseals, p.path,
		       (unsigned long long)p.offset, (unsigned long long)p.length);
		sealtool_nseals++;
	}
	if (sealtool_nseals == 0)
		return sealtool_usage();
	printf("sealed\n");
	sealtool_hold(reg);
	return 0;
}

static int sealtool_print_segment(uint64_t off, uint64_t len, unsigned kinds, void *arg)
{
	char buf[64];

	printf("%llu+%llu %s\n", (unsigned long long)off, (unsigned long long)len,
	       fiemap_kinds_str(kinds, buf, sizeof(buf)));
	return 0;
}

static int sealtool_fiemap(int argc, char **argv)
{
	struct fiemap_report rep;
	uint64_t off = 0, len;
	char buf[256];
	struct stat st;
	int fd, rc;

	if (argc != 1 && argc != 3)
		return sealtool_usage();
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("error %d: %s: %s\n", -errno, argv[0], strerror(errno));
		return errno;
	}
	len = (uint64_t)st.st_size;
	if (argc == 3 && (sealtool_size(argv[1], &off) < 0 || sealtool_size(argv[2], &len) < 0))
		return sealtool_usage();
	rc = fiemap_walk(fd, off, len, 1, sealtool_print_segment, NULL);
	if (rc == 0)
		rc = fiemap_check(fd, off, len, 0, &rep);
	close(fd);
	if (rc < 0) {
		printf("error %d: %s: FIEMAP: %s\n", rc, argv[0], strerror(-rc));
		return -rc;
	}
	printf("%s\n", fiemap_report_str(&rep, buf, sizeof(buf)));
	return fiemap_report_clean(&rep) ? 0 : 1;
}

static void sealtool_rmstate(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/seal.journal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/seal.lock", dir);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/sealtool.XXXXXX", err[1024] = "";
	const char *state = NULL;
	struct seal_registry *reg;
	enum log_level lvl = LOG_LEVEL_INFO;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--state") && i + 1 < argc)
			state = argv[++i];
		else if (!strcmp(argv[i], "--debug"))
			lvl = LOG_LEVEL_DEBUG;
		else
			return sealtool_usage();
	}
	if (i >= argc)
		return sealtool_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("sealtool", lvl, 0);
	if (!strcmp(argv[i], "fiemap"))
		return sealtool_fiemap(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "seal") && strcmp(argv[i], "replay"))
		return sealtool_usage();
	if (state == NULL && (state = mkdtemp(tmpl)) == NULL)
		return errno;
	rc = seal_registry_new(state, &reg, err, sizeof(err));
	if (rc < 0) {
		sealtool_fail(rc, err);
		return -rc;
	}
	seal_registry_set_changed_cb(reg, sealtool_changed, NULL);
	rc = !strcmp(argv[i], "seal") ? sealtool_seal(reg, argc - i - 1, argv + i + 1) : 0;
	seal_registry_delete(&reg);
	if (state == tmpl)
		sealtool_rmstate(tmpl);
	return rc;
}
