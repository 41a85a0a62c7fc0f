/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parser: every input is a
 * sealmrd.conf handed to conf_new. A file is either refused with a negative
 * errno and "FILE:LINE: cause", LINE a line of the file, or accepted as a
 * configuration within the limits of sealmrd.conf(5), every string in it
 * read whole from the file. A broken property aborts, which libFuzzer
 * reports as a crash; a leak is reported by LeakSanitizer.
 *
 * Built and run by tests/fuzz/run.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "proto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "conf-fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* conf_new wants a path: a memfd is a file no run can leave behind. */
static int fuzz_fd = -1;
static char fuzz_path[64];

/*
 * Linked with --wrap=getaddrinfo: "listen = NAME:PORT" must not send the
 * fuzzer to a DNS server (slow, and not the same answer twice). A numeric
 * address resolves as before, a name fails as one that does not resolve.
 */
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct addrinfo h = *hints;

	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(node, service, &h, res);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_fd = memfd_create("conf-fuzz", MFD_CLOEXEC);
	FUZZ_CHECK(fuzz_fd >= 0);
	snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
	return 0;
}

/* Lines as an editor counts them: a last line without '\n' is one. */
static unsigned long fuzz_lines(const uint8_t *data, size_t size)
{
	unsigned long n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

/*
 * Whether value is somewhere in the file as a whole value: followed by the
 * end of its line, maybe after blanks or before a " ;" comment. A value cut
 * short (by a line buffer, say) is followed by the rest of itself.
 */
static bool fuzz_whole_value(const uint8_t *data, size_t size, const char *value)
{
	size_t len = strlen(value);
	const uint8_t *p = data, *end = data + size;

	while ((p = memmem(p, (size_t)(end - p), value, len))) {
		const uint8_t *q = p + len;

		/* inih's blanks are isspace()'s. */
		while (q < end && *q != '\n' && isspace(*q))
			q++;
		if (q == end || *q == '\n' || (q > p + len && *q == ';'))
			return true;
		p++;
	}
	return false;
}

static bool fuzz_has(const uint8_t *data, size_t size, const char *before, const char *s,
		     const char *after)
{
	char buf[CONF_NAME_MAX + 16];

	snprintf(buf, sizeof(buf), "%s%s%s", before, s, after);
	return memmem(data, size, buf, strlen(buf)) != NULL;
}

static void fuzz_refused(const uint8_t *data, size_t size, int rc, const char *err)
{
	size_t plen = strlen(fuzz_path);
	char *end;
	unsigned long line;

	FUZZ_CHECK(rc == -EINVAL || rc == -EEXIST);
	/* "FILE:LINE: cause", and LINE is one of the file's. */
	FUZZ_CHECK(!strncmp(err, fuzz_path, plen) && err[plen] == ':');
	line = strtoul(err + plen + 1, &end, 10);
	FUZZ_CHECK(end > err + plen + 1 && end[0] == ':' && end[1] == ' ' && end[2]);
	if (line < 1 || line > fuzz_lines(data, size)) {
		fprintf(stderr, "conf-fuzz: %lu lines, refused as: %s\n", fuzz_lines(data, size),
			err);
		FUZZ_CHECK(line >= 1 && line <= fuzz_lines(data, size));
	}
}

static void fuzz_check_string(const uint8_t *data, size_t size, const char *what,
			      const char *value, const char *dflt)
{
	if (!value || (dflt && !strcmp(value, dflt)))
		return;
	if (!fuzz_whole_value(data, size, value)) {
		fprintf(stderr, "conf-fuzz: %s '%s' is not a whole value of the file\n", what,
			value);
		FUZZ_CHECK(fuzz_whole_value(data, size, value));
	}
}

static void fuzz_check_export(const uint8_t *data, size_t size, const struct conf *cfg,
			      const struct conf_export *e)
{
	size_t nlen = strnlen(e->name, CONF_NAME_MAX);

	FUZZ_CHECK(nlen >= 1 && nlen < CONF_NAME_MAX && !strpbrk(e->name, " /\t@+:"));
	FUZZ_CHECK(conf_find_export(cfg, e->name) == e);
	/* The name is the section's, as written. */
	if (!fuzz_has(data, size, "[export ", e->name, "]")) {
		fprintf(stderr, "conf-fuzz: no [export %s] in the file\n", e->name);
		FUZZ_CHECK(fuzz_has(data, size, "[export ", e->name, "]"));
	}
	FUZZ_CHECK(e->line >= 1 && (unsigned long)e->line <= fuzz_lines(data, size));
	FUZZ_CHECK(e->path && e->path[0] == '/');
	fuzz_check_string(data, size, "path", e->path, NULL);
	FUZZ_CHECK(e->size > 0 && e->size % PROTO_GRANT_ALIGN == 0);
	FUZZ_CHECK(e->offset % PROTO_GRANT_ALIGN == 0);
	FUZZ_CHECK(e->mode == SEAL_MODE_DAX || e->mode == SEAL_MODE_PAGECACHE);
	FUZZ_CHECK(e->reg == CONF_REG_AUTO || e->reg == CONF_REG_ODP || e->reg == CONF_REG_PINNED);
	FUZZ_CHECK(e->nclients <= CONF_CIDR_MAX);
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct conf_cidr *c = &e->clients[i];

		/* A prefix, and the network has no host bits: the match relies on both. */
		FUZZ_CHECK((~c->mask & (~c->mask + 1)) == 0);
		FUZZ_CHECK((ntohl(c->net.s_addr) & ~c->mask) == 0);
		FUZZ_CHECK(conf_client_allowed(e, &c->net));
	}
	if (e->nclients == 0) {
		struct in_addr any = { .s_addr = htonl(0x0a000205) };

		FUZZ_CHECK(conf_client_allowed(e, &any));
	}
}

static void fuzz_accepted(const uint8_t *data, size_t size, const struct conf *cfg)
{
	size_t hlen = strnlen(cfg->fixed.listen_host, sizeof(cfg->fixed.listen_host));

	FUZZ_CHECK(cfg->file && !strcmp(cfg->file, fuzz_path));
	FUZZ_CHECK(hlen >= 1 && hlen < sizeof(cfg->fixed.listen_host));
	FUZZ_CHECK(cfg->fixed.listen_port >= 1);
	FUZZ_CHECK(cfg->fixed.state_dir && cfg->fixed.admin_socket);
	fuzz_check_string(data, size, "state_dir", cfg->fixed.state_dir, "/var/lib/sealmr");
	fuzz_check_string(data, size, "admin_socket", cfg->fixed.admin_socket, "/run/sealmr/admin.sock");
	fuzz_check_string(data, size, "pid_file", cfg->fixed.pid_file, NULL);
	FUZZ_CHECK(cfg->log_level < LOG_LEVEL_MAX);
	FUZZ_CHECK(cfg->max_clients >= 1 && cfg->max_clients <= 65536);
	FUZZ_CHECK(cfg->nexports == 0 || cfg->exports);
	for (unsigned i = 0; i < cfg->nexports; i++)
		fuzz_check_export(data, size, cfg, &cfg->exports[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cfg = NULL;
	char err[1024] = "";
	int rc;

	FUZZ_CHECK(ftruncate(fuzz_fd, 0) == 0);
	FUZZ_CHECK(pwrite(fuzz_fd, data, size, 0) == (ssize_t)size);
	rc = conf_new(fuzz_path, &cfg, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(rc < 0 && cfg == NULL);
		fuzz_refused(data, size, rc, err);
	} else {
		FUZZ_CHECK(cfg != NULL);
		fuzz_accepted(data, size, cfg);
		conf_delete(&cfg);
		FUZZ_CHECK(cfg == NULL);
	}
	return 0;
}
