/* SPDX-License-Identifier: MIT */
/*
 * The sealmr command's shared pieces: options, targets, exit codes, the
 * progress bar. Everything here uses libsealmr's public API only.
 */
#ifndef SEALMR_CLI_H
#define SEALMR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sealmr/sealmr.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_USAGE = 1,
	CLI_CONN = 2,    /* cannot connect, refused, connection lost */
	CLI_SERVER = 3,  /* the daemon said no: no such export, range, access */
	CLI_IO = 4,      /* local I/O, remote access error, failed transfer */
	CLI_REVOKED = 5, /* the grant was revoked during the run */
};

enum cli_phase {
	CLI_PHASE_CONNECT, /* sealmr_connect */
	CLI_PHASE_CTRL,    /* list, stat, open, close, flush */
	CLI_PHASE_DATA,    /* read, write, async transfers */
};

struct cli_opts {
	bool quiet;
	bool json;
	int timeout_ms;
	/* bench */
	const char *op;
	uint64_t size;
	unsigned depth;
	bool lat;          /* depth 1 */
	unsigned clients;  /* connections, one thread each */
	uint64_t span;     /* bytes of the export cycled over; 0: all */
	bool poll;         /* busy-poll for completions instead of sleeping */
	unsigned qps;      /* data QPs of the session; 0: the library's default */
	bool flush;        /* bench write: each op made durable before it counts */
	unsigned flush_method; /* put, bench: sealmr_flush_with's method; 0: auto */
	double seconds;
	unsigned given; /* the options on the command line, 1u << index in sealmr.c's table */
};

/* HOST[:PORT][/EXPORT[@OFFSET[+LENGTH]]] */
struct cli_target {
	char host[256];
	uint16_t port;
	char export[SEALMR_NAME_MAX];
	uint64_t offset;
	uint64_t length;
	bool has_export, has_offset, has_length;
};

/* What every command needs once connected. */
struct cli_session {
	const char *cmd;  /* "put data", for messages */
	struct sealmr_conn *conn;
	bool revoked;     /* set by the revoke callback */
	char revoke_text[256];
};

extern const char *cli_prog;

int cli_parse_size(const char *s, uint64_t *out);
/* "native", "commit" or "auto" (0): sealmr_flush_with's methods. */
const char *cli_flush_name(unsigned method);
/* "commit native": the enum sealmr_flush_method bits offered. */
const char *cli_flush_methods(unsigned methods);
/* A decimal count in min..max; sizes' suffixes are refused. */
int cli_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Returns 0, or prints why to stderr and returns CLI_USAGE. */
int cli_parse_target(const char *cmd, const char *s, bool want_export, struct cli_target *t);
int cli_connect(struct cli_session *s, const struct cli_target *t, const struct cli_opts *o,
		unsigned depth);
void cli_disconnect(struct cli_session *s);
/* Prints "sealmr: CMD: MESSAGE" and returns the exit code for err. */
int cli_fail(struct cli_session *s, enum cli_phase phase, int err);
int cli_fail_msg(const char *cmd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

double cli_now(void);
void cli_human_size(uint64_t bytes, char *buf, size_t len);

/* A progress bar on stderr: only on a terminal, only after 2 s. */
struct cli_progress {
	bool enabled, shown;
	uint64_t total;
	double start, last;
	const char *label;
};
void cli_progress_start(struct cli_progress *p, const struct cli_opts *o, const char *label,
			uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);

int cli_ls(const struct cli_opts *o, int argc, char **argv);
int cli_stat(const struct cli_opts *o, int argc, char **argv);
int cli_put(const struct cli_opts *o, int argc, char **argv);
int cli_get(const struct cli_opts *o, int argc, char **argv);
int cli_bench(const struct cli_opts *o, int argc, char **argv);

#endif
