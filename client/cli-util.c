/* SPDX-License-Identifier: MIT */
/*
 * Parsing sizes and targets, connecting, turning errors into messages and
 * exit codes, the progress bar.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define CLI_PROGRESS_AFTER 2.0 /* seconds before a bar appears */

int cli_parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	/* Accept "4KiB" and "4KB" too. */
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "ib")))
		end += strlen(end);
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* A count: decimal digits only, so that "1K" is an error, not 1024. */
int cli_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int cli_bad_target(const char *cmd, const char *s, const char *why)
{
	fprintf(stderr, "%s: %s: bad target '%s': %s\n", cli_prog, cmd, s, why);
	return CLI_USAGE;
}

/* HOST, [V6ADDR] or HOST:PORT up to the first '/' */
static int cli_parse_hostport(const char *cmd, const char *s, const char *end,
			      struct cli_target *t)
{
	const char *colon = NULL, *h = s, *he;
	unsigned long port;
	char *pe;

	if (*s == '[') {
		he = memchr(s, ']', (size_t)(end - s));
		if (!he)
			return cli_bad_target(cmd, s, "no ']' after an IPv6 address");
		h = s + 1;
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
		if (he + 1 < end && !colon)
			return cli_bad_target(cmd, s, "expected ':PORT' after ']'");
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		he = colon ? colon : end;
	}
	if (he == h || (size_t)(he - h) >= sizeof(t->host))
		return cli_bad_target(cmd, s, "no host, or a host name that is too long");
	memcpy(t->host, h, (size_t)(he - h));
	t->host[he - h] = '\0';
	t->port = SEALMR_DEFAULT_PORT;
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &pe, 10);
		if (errno || pe != end || port == 0 || port > 65535)
			return cli_bad_target(cmd, s, "the port is not a number from 1 to 65535");
		t->port = (uint16_t)port;
	}
	return 0;
}

int cli_parse_target(const char *cmd, const char *s, bool want_export, struct cli_target *t)
{
	const char *slash, *at, *plus;
	size_t nlen;
	char num[64];
	int rc;

	memset(t, 0, sizeof(*t));
	slash = strchr(s[0] == '[' ? (strchr(s, ']') ? strchr(s, ']') : s) : s, '/');
	if (!want_export) {
		if (slash && slash[1])
			return cli_bad_target(cmd, s, "give HOST[:PORT] only");
		return cli_parse_hostport(cmd, s, slash ? slash : s + strlen(s), t);
	}
	if (!slash || !slash[1])
		return cli_bad_target(cmd, s, "expected HOST[:PORT]/EXPORT");
	rc = cli_parse_hostport(cmd, s, slash, t);
	if (rc)
		return rc;
	at = strchr(slash + 1, '@');
	nlen = at ? (size_t)(at - slash - 1) : strlen(slash + 1);
	if (nlen == 0 || nlen >= sizeof(t->export))
		return cli_bad_target(cmd, s, "the export name is empty or too long");
	memcpy(t->export, slash + 1, nlen);
	t->export[nlen] = '\0';
	t->has_export = true;
	if (!at)
		return 0;
	plus = strchr(at + 1, '+');
	nlen = plus ? (size_t)(plus - at - 1) : strlen(at + 1);
	if (nlen == 0 || nlen >= sizeof(num))
		return cli_bad_target(cmd, s, "expected @OFFSET[+LENGTH]");
	memcpy(num, at + 1, nlen);
	num[nlen] = '\0';
	if (cli_parse_size(num, &t->offset))
		return cli_bad_target(cmd, s, "the offset is not a size (like 4096, 64K, 1M)");
	t->has_offset = true;
	if (plus) {
		if (cli_parse_size(plus + 1, &t->length))
			return cli_bad_target(cmd, s, "the length is not a size (like 4096, 64K, 1M)");
		t->has_length = true;
	}
	return 0;
}

static void cli_on_revoke(struct sealmr_grant *g, unsigned reason, const char *text, void *arg)
{
	struct cli_session *s = arg;
	struct sealmr_grant_info info;

	sealmr_grant_get_info(g, &info);
	s->revoked = true;
	snprintf(s->revoke_text, sizeof(s->revoke_text), "grant %" PRIu64 " revoked by the server: %s",
		 info.id, text);
}

int cli_connect(struct cli_session *s, const struct cli_target *t, const struct cli_opts *o,
		unsigned depth)
{
	struct sealmr_conn_opts co = { .timeout_ms = o->timeout_ms, .depth = depth,
				       .busy_poll = o->poll, .qps = o->qps };
	int rc = sealmr_connect(t->host, t->port, &co, &s->conn);

	if (rc)
		return cli_fail(s, CLI_PHASE_CONNECT, rc);
	sealmr_set_revoke_cb(s->conn, cli_on_revoke, s);
	return 0;
}

void cli_disconnect(struct cli_session *s)
{
	sealmr_disconnect(&s->conn);
}

static int cli_exit_code(struct cli_session *s, enum cli_phase phase, int err)
{
	if (s->revoked)
		return CLI_REVOKED;
	switch (-err) {
	case ENOTCONN: case ECONNRESET: case ECONNREFUSED: case ETIMEDOUT:
	case EHOSTUNREACH: case ENETUNREACH: case ESHUTDOWN: case EUSERS:
	case EPROTONOSUPPORT: case ENODEV:
		return CLI_CONN;
	default:
		break;
	}
	if (phase == CLI_PHASE_CONNECT)
		return CLI_CONN;
	if (phase == CLI_PHASE_CTRL)
		return CLI_SERVER;
	/* Data: range and argument errors are found before anything moves. */
	return err == -ERANGE || err == -EINVAL ? CLI_SERVER : CLI_IO;
}

int cli_fail(struct cli_session *s, enum cli_phase phase, int err)
{
	const char *msg = sealmr_errmsg(phase == CLI_PHASE_CONNECT ? NULL : s->conn);

	/* A revoke explains a remote access error better than the error. */
	if (s->revoked && phase == CLI_PHASE_DATA && !strstr(msg, "revoked"))
		fprintf(stderr, "%s: %s: %s (%s)\n", cli_prog, s->cmd, msg, s->revoke_text);
	else
		fprintf(stderr, "%s: %s: %s\n", cli_prog, s->cmd, msg);
	return cli_exit_code(s, phase, err);
}

int cli_fail_msg(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", cli_prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

double cli_now(void)
{
	return (double)util_now_ns() / 1e9;
}

void cli_human_size(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void cli_progress_start(struct cli_progress *p, const struct cli_opts *o, const char *label,
			uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = !o->quiet && isatty(STDERR_FILENO);
	p->total = total;
	p->label = label;
	p->start = cli_now();
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
	double now, el, rate;
	char d[32], t[32];
	int width = 30, fill;

	if (!p->enabled)
		return;
	now = cli_now();
	el = now - p->start;
	if (el < CLI_PROGRESS_AFTER || (p->shown && now - p->last < 0.2 && done < p->total))
		return;
	p->shown = true;
	p->last = now;
	rate = el > 0 ? (double)done / el : 0;
	fill = p->total ? (int)((double)width * (double)done / (double)p->total) : 0;
	cli_human_size(done, d, sizeof(d));
	cli_human_size(p->total, t, sizeof(t));
	fprintf(stderr, "\r%s [%-*.*s] %3.0f%% %s of %s %.1f MB/s ", p->label, width, fill,
		"##############################", p->total ? 100.0 * (double)done / (double)p->total : 0,
		d, t, rate / 1e6);
	if (rate > 0 && done < p->total)
		fprintf(stderr, "ETA %.0fs ", (double)(p->total - done) / rate);
	fputs("\033[K", stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
}

const char *cli_flush_name(unsigned method)
{
	return method == SEALMR_FLUSH_RDMA_FLUSH ? "native"
	       : method == SEALMR_FLUSH_COMMIT	 ? "commit"
						 : "auto";
}

const char *cli_flush_methods(unsigned methods)
{
	return (methods & SEALMR_FLUSH_RDMA_FLUSH) ? "commit native" : "commit";
}
