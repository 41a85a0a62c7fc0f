/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "conf.h"
#include "fault.h"
#include "proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONF_EXPORT_PREFIX "export "

/* Which section the keys read now are in. */
enum conf_in {
	CONF_IN_NONE,
	CONF_IN_SEALMRD,
	CONF_IN_EXPORT, /* the last of cfg->exports */
};

struct conf_parse {
	struct conf *cfg;
	FILE *fp;
	char *buf; /* the line as read, NULs and all */
	size_t bufcap;
	int line;
	enum conf_in in;
	bool named; /* inih's last key had a name: an indented line goes on its value */
	char *err;
	size_t errlen;
	int rc;
	int rc_read; /* the line read when rc was set, to tell inih's errors from ours */
};

static int conf_fail_at(struct conf_parse *p, int line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int conf_fail(struct conf_parse *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int conf_vfail(struct conf_parse *p, int line, int rc, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int conf_vfail(struct conf_parse *p, int line, int rc, const char *fmt, va_list ap)
{
	char msg[512];

	/* Only the first error is reported, and it stops the reading. */
	if (p->rc)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->cfg->file, line, msg);
	p->rc = rc;
	p->rc_read = p->line;
	return 0; /* stops ini_parse */
}

static int conf_fail_at(struct conf_parse *p, int line, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vfail(p, line, rc, fmt, ap);
	va_end(ap);
	return 0;
}

static int conf_fail(struct conf_parse *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vfail(p, p->line, rc, fmt, ap);
	va_end(ap);
	return 0;
}

int conf_parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (*text == '-' || *text == '\0')
		return -EINVAL;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += (end[0] == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0' || (shift && v > (ULLONG_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int conf_parse_count(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* Digits only: a count with a size's suffix is a mistake to report. */
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int conf_parse_cidr(const char *text, struct conf_cidr *out)
{
	char buf[64];
	char *slash;
	long bits = 32;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash = '\0';
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 || bits > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &out->net) != 1)
		return -EINVAL;
	out->mask = bits ? 0xffffffffu << (32 - bits) : 0;
	out->net.s_addr = htonl(ntohl(out->net.s_addr) & out->mask);
	return 0;
}

bool conf_client_allowed(const struct conf_export *exp, const struct in_addr *addr)
{
	if (exp->nclients == 0)
		return true;
	for (unsigned i = 0; i < exp->nclients; i++) {
		const struct conf_cidr *c = &exp->clients[i];

		if ((ntohl(addr->s_addr) & c->mask) == ntohl(c->net.s_addr))
			return true;
	}
	return false;
}

static int conf_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int conf_listen(struct conf_parse *p, const char *v)
{
	struct addrinfo hints = { .ai_family = AF_INET }, *ai;
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	int rc;

	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(p->cfg->fixed.listen_host))
		return conf_fail(p, -EINVAL, "listen = %s: want ADDRESS:PORT", v);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port <= 0 || port > 65535)
		return conf_fail(p, -EINVAL, "listen = %s: bad port", v);
	memcpy(p->cfg->fixed.listen_host, v, (size_t)(colon - v));
	p->cfg->fixed.listen_host[colon - v] = '\0';
	/* The host is resolved here, so that a bad one is refused with its line. */
	rc = getaddrinfo(p->cfg->fixed.listen_host, NULL, &hints, &ai);
	if (rc)
		return conf_fail(p, -EINVAL, "listen = %s: bad address '%s': %s", v,
				 p->cfg->fixed.listen_host, gai_strerror(rc));
	freeaddrinfo(ai);
	p->cfg->fixed.listen_port = (uint16_t)port;
	return 1;
}

static int conf_set_str(struct conf_parse *p, char **dst, const char *v)
{
	free(*dst);
	*dst = FAULT("conf.string", ENOMEM) ? NULL : strdup(v);
	return *dst ? 1 : conf_fail(p, -ENOMEM, "out of memory");
}

static int conf_daemon_key(struct conf_parse *p, const char *name, const char *v)
{
	struct conf *cfg = p->cfg;

	if (!strcmp(name, "listen"))
		return conf_listen(p, v);
	if (!strcmp(name, "state_dir"))
		return conf_set_str(p, &cfg->fixed.state_dir, v);
	if (!strcmp(name, "admin_socket"))
		return conf_set_str(p, &cfg->fixed.admin_socket, v);
	if (!strcmp(name, "pid_file"))
		return conf_set_str(p, &cfg->fixed.pid_file, v);
	if (!strcmp(name, "log_level")) {
		if (log_level_parse(v, &cfg->log_level))
			return conf_fail(p, -EINVAL,
					   "log_level = %s: want error, warn, notice, info or debug", v);
		return 1;
	}
	if (!strcmp(name, "syslog")) {
		if (conf_bool(v, &cfg->fixed.log_syslog))
			return conf_fail(p, -EINVAL, "syslog = %s: want yes or no", v);
		return 1;
	}
	if (!strcmp(name, "max_clients")) {
		uint64_t n;

		if (conf_parse_count(v, &n) || n == 0 || n > 65536)
			return conf_fail(p, -EINVAL, "max_clients = %s: want a count, 1..65536", v);
		cfg->max_clients = (unsigned)n;
		return 1;
	}
	return conf_fail(p, -EINVAL, "unknown key '%s' in [sealmrd]", name);
}

static int conf_clients(struct conf_parse *p, struct conf_export *e, const char *v)
{
	char buf[1024];
	char *save = NULL;

	if (strlen(v) >= sizeof(buf))
		return conf_fail(p, -EINVAL, "clients: list too long");
	strcpy(buf, v);
	e->nclients = 0;
	for (char *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (e->nclients == CONF_CIDR_MAX)
			return conf_fail(p, -EINVAL, "clients: more than %d networks",
					   CONF_CIDR_MAX);
		if (conf_parse_cidr(tok, &e->clients[e->nclients]))
			return conf_fail(p, -EINVAL,
					   "clients: '%s' is not an IPv4 address or CIDR (like 10.0.2.0/24)",
					   tok);
		e->nclients++;
	}
	return 1;
}

static int conf_export_key(struct conf_parse *p, struct conf_export *e,
			     const char *name, const char *v)
{
	if (!strcmp(name, "path")) {
		if (v[0] != '/')
			return conf_fail(p, -EINVAL, "path = %s: want an absolute path", v);
		return conf_set_str(p, &e->path, v);
	}
	if (!strcmp(name, "size") || !strcmp(name, "offset")) {
		uint64_t *dst = name[0] == 's' ? &e->size : &e->offset;

		if (conf_parse_size(v, dst) || (dst == &e->size && *dst == 0))
			return conf_fail(p, -EINVAL,
					   "%s = %s: want a byte count such as 4096, 64M or 2G",
					   name, v);
		if (*dst % PROTO_GRANT_ALIGN)
			return conf_fail(p, -EINVAL, "%s = %s: must be a multiple of %u",
					   name, v, PROTO_GRANT_ALIGN);
		return 1;
	}
	if (!strcmp(name, "access")) {
		if (strcmp(v, "rw") && strcmp(v, "ro"))
			return conf_fail(p, -EINVAL, "access = %s: want rw or ro", v);
		e->writable = !strcmp(v, "rw");
		return 1;
	}
	if (!strcmp(name, "mode")) {
		if (strcmp(v, "dax") && strcmp(v, "pagecache"))
			return conf_fail(p, -EINVAL, "mode = %s: want dax or pagecache", v);
		e->mode = !strcmp(v, "dax") ? SEAL_MODE_DAX : SEAL_MODE_PAGECACHE;
		return 1;
	}
	if (!strcmp(name, "registration")) {
		if (!strcmp(v, "auto"))
			e->reg = CONF_REG_AUTO;
		else if (!strcmp(v, "odp"))
			e->reg = CONF_REG_ODP;
		else if (!strcmp(v, "pinned"))
			e->reg = CONF_REG_PINNED;
		else
			return conf_fail(p, -EINVAL, "registration = %s: want auto, odp or pinned", v);
		return 1;
	}
	if (!strcmp(name, "unshare")) {
		if (conf_bool(v, &e->unshare))
			return conf_fail(p, -EINVAL, "unshare = %s: want yes or no", v);
		return 1;
	}
	if (!strcmp(name, "clients"))
		return conf_clients(p, e, v);
	return conf_fail(p, -EINVAL, "unknown key '%s' in [export %s]", name, e->name);
}

static int conf_check_export(struct conf_parse *p, const struct conf_export *e)
{
	if (!e || (e->path && e->size))
		return 1;
	return conf_fail_at(p, e->line, -EINVAL, "[export %s] needs %s", e->name,
			    e->path ? "size = BYTES" : "path = /FILE");
}

static struct conf_export *conf_add_export(struct conf_parse *p, const char *name)
{
	struct conf *cfg = p->cfg;
	struct conf_export *e;

	if (!*name || strlen(name) >= CONF_NAME_MAX || strpbrk(name, " /\t@+:")) {
		conf_fail(p, -EINVAL,
			    "export name '%s': want 1..%d characters, none of space / @ + :",
			    name, CONF_NAME_MAX - 1);
		return NULL;
	}
	if (conf_find_export(cfg, name)) {
		conf_fail(p, -EEXIST, "export '%s' defined twice", name);
		return NULL;
	}
	e = FAULT("conf.export", ENOMEM) ? NULL
					 : realloc(cfg->exports, (cfg->nexports + 1) * sizeof(*e));
	if (!e) {
		conf_fail(p, -ENOMEM, "out of memory");
		return NULL;
	}
	cfg->exports = e;
	e = &cfg->exports[cfg->nexports++];
	memset(e, 0, sizeof(*e));
	strcpy(e->name, name);
	e->writable = true;
	e->mode = SEAL_MODE_DAX;
	e->line = p->line;
	return e;
}

/* A [section] line: the export before it is complete, a new one starts. */
static void conf_section(struct conf_parse *p, const char *section)
{
	struct conf *cfg = p->cfg;

	if (p->in == CONF_IN_EXPORT && !conf_check_export(p, &cfg->exports[cfg->nexports - 1]))
		return;
	p->in = CONF_IN_NONE;
	if (!strncmp(section, CONF_EXPORT_PREFIX, strlen(CONF_EXPORT_PREFIX))) {
		if (conf_add_export(p, section + strlen(CONF_EXPORT_PREFIX)))
			p->in = CONF_IN_EXPORT;
	} else if (!strcmp(section, "sealmrd")) {
		p->in = CONF_IN_SEALMRD;
	} else {
		conf_fail(p, -EINVAL, "unknown section [%s]: want [sealmrd] or [export NAME]",
			  section);
	}
}

/* inih's scan (find_chars_or_comment): to c, or to a ';' after a blank. */
static char *conf_find(char *s, char c)
{
	bool blank = false;

	while (*s && *s != c && !(blank && *s == ';')) {
		blank = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * Debian's inih neither announces new sections nor keeps more than 49 bytes
 * of their names: the sections are taken here, from the line as read, by
 * inih's rules for what a section line is, before inih reads the line.
 */
static void conf_header(struct conf_parse *p, char *str)
{
	char *s = str, *end;

	/* A UTF-8 byte order mark, which inih skips on the first line. */
	if (p->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	/* An indented line after a key continues its value. */
	if (*s != '[' || (p->named && s > str))
		return;
	end = conf_find(s + 1, ']');
	if (*end != ']')
		return; /* inih's syntax error */
	*end = '\0';
	p->named = false;
	conf_section(p, s + 1);
	*end = ']';
}

static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	ssize_t n;
	size_t len;

	if (p->rc)
		return NULL;
	n = getline(&p->buf, &p->bufcap, p->fp);
	if (n <= 0)
		return NULL;
	p->line++;
	len = (size_t)n - (p->buf[n - 1] == '\n');
	/*
	 * inih reads a line into num bytes: it would take the rest of a longer
	 * one for a line of its own, and the bytes after a NUL for none. Either
	 * way a value would be cut short without a word.
	 */
	if (len > (size_t)num - 2) {
		conf_fail(p, -EINVAL, "line longer than %d bytes", num - 2);
		return NULL;
	}
	if (memchr(p->buf, '\0', len)) {
		conf_fail(p, -EINVAL, "NUL byte in the line");
		return NULL;
	}
	memcpy(str, p->buf, (size_t)n + 1);
	conf_header(p, str);
	return p->rc ? NULL : str;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	struct conf *cfg = p->cfg;

	/* inih continues the value of a named key only (prev_name). */
	p->named = *name != '\0';
	if (p->rc)
		return 0;
	switch (p->in) {
	case CONF_IN_SEALMRD:
		return conf_daemon_key(p, name, value);
	case CONF_IN_EXPORT:
		return conf_export_key(p, &cfg->exports[cfg->nexports - 1], name, value);
	default:
		return conf_fail(p, -EINVAL, "key '%s' outside a section", name);
	}
}

static int conf_defaults(struct conf *cfg, const char *file)
{
	cfg->file = FAULT("conf.file", ENOMEM) ? NULL : strdup(file);
	cfg->fixed.state_dir = FAULT("conf.state_dir", ENOMEM) ? NULL : strdup("/var/lib/sealmr");
	cfg->fixed.admin_socket =
	    FAULT("conf.admin_socket", ENOMEM) ? NULL : strdup(PROTO_ADMIN_SOCKET_DEFAULT);
	strcpy(cfg->fixed.listen_host, "0.0.0.0");
	cfg->fixed.listen_port = PROTO_DEFAULT_PORT;
	cfg->log_level = LOG_LEVEL_NOTICE;
	cfg->max_clients = 1024;
	return (cfg->file && cfg->fixed.state_dir && cfg->fixed.admin_socket) ? 0 : -ENOMEM;
}

int conf_new(const char *file, struct conf **out, char *err, size_t errlen)
{
	struct conf_parse p = { .err = err, .errlen = errlen };
	struct conf *cfg;
	int rc;

	cfg = FAULT("conf.new", ENOMEM) ? NULL : calloc(1, sizeof(*cfg));
	if (!cfg || conf_defaults(cfg, file)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto err_free;
	}
	p.cfg = cfg;
	p.fp = fopen(file, "r");
	if (!p.fp) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		goto err_free;
	}
	rc = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	fclose(p.fp);
	free(p.buf);
	if (rc == 0 && p.in == CONF_IN_EXPORT)
		conf_check_export(&p, &cfg->exports[cfg->nexports - 1]);
	/* inih goes on after a line it cannot read: the first error is the one to report. */
	if (p.rc && (rc <= 0 || rc >= p.rc_read)) {
		rc = p.rc;
		goto err_free;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error (want [section] or key = value)",
			 file, rc);
		rc = -EINVAL;
		goto err_free;
	}
	*out = cfg;
	return 0;

err_free:
	conf_delete(&cfg);
	return rc;
}

void conf_delete(struct conf **pcfg)
{
	struct conf *cfg = *pcfg;

	if (!cfg)
		return;
	for (unsigned i = 0; i < cfg->nexports; i++)
		free(cfg->exports[i].path);
	free(cfg->exports);
	free(cfg->file);
	free(cfg->fixed.state_dir);
	free(cfg->fixed.admin_socket);
	free(cfg->fixed.pid_file);
	free(cfg);
	*pcfg = NULL;
}

static bool conf_str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Appends "NAME = NOW (running: WAS)" to out. */
static void conf_diff_add(char *out, size_t outlen, const char *name, const char *was,
			  const char *now)
{
	size_t n = strlen(out);

	if (n < outlen)
		snprintf(out + n, outlen - n, "%s%s = %s (running: %s)", n ? ", " : "", name,
			 now ? now : "(unset)", was ? was : "(unset)");
}

unsigned conf_fixed_diff(const struct conf_fixed *was, const struct conf_fixed *now, char *out,
			 size_t outlen)
{
	char a[80], b[80];
	unsigned n = 0;

	out[0] = '\0';
	snprintf(a, sizeof(a), "%s:%u", was->listen_host, was->listen_port);
	snprintf(b, sizeof(b), "%s:%u", now->listen_host, now->listen_port);
	if (strcmp(a, b) && ++n)
		conf_diff_add(out, outlen, "listen", a, b);
	if (!conf_str_same(was->state_dir, now->state_dir) && ++n)
		conf_diff_add(out, outlen, "state_dir", was->state_dir, now->state_dir);
	if (!conf_str_same(was->admin_socket, now->admin_socket) && ++n)
		conf_diff_add(out, outlen, "admin_socket", was->admin_socket, now->admin_socket);
	if (!conf_str_same(was->pid_file, now->pid_file) && ++n)
		conf_diff_add(out, outlen, "pid_file", was->pid_file, now->pid_file);
	if (was->log_syslog != now->log_syslog && ++n)
		conf_diff_add(out, outlen, "log_syslog", was->log_syslog ? "yes" : "no",
			      now->log_syslog ? "yes" : "no");
	return n;
}

void conf_fixed_swap(struct conf_fixed *a, struct conf_fixed *b)
{
	struct conf_fixed t = *a;

	*a = *b;
	*b = t;
}

const struct conf_export *conf_find_export(const struct conf *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nexports; i++)
		if (!strcmp(cfg->exports[i].name, name))
			return &cfg->exports[i];
	return NULL;
}
