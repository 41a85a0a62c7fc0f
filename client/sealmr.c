/* SPDX-License-Identifier: MIT */
/*
 * sealmr: the command-line client of sealmrd. ls, stat, put, get, bench.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_prog = "sealmr";

static void usage(FILE *fp)
{
	fprintf(fp,
"usage: sealmr [OPTIONS] COMMAND ARGS\n"
"\n"
"  ls    HOST[:PORT]                          the exports this client may open\n"
"  stat  HOST[:PORT]/EXPORT                   one export: path, size, access, mode,\n"
"                                             registration, persistence, grants, seal\n"
"  put   LOCALFILE HOST[:PORT]/EXPORT[@OFFSET] [--flush native|commit|auto]\n"
"                                             write the file at OFFSET (default 0) and\n"
"                                             make it durable\n"
"  get   HOST[:PORT]/EXPORT[@OFFSET[+LENGTH]] LOCALFILE|-\n"
"                                             read LENGTH bytes (default: to the end of\n"
"                                             the export) into LOCALFILE or stdout\n"
"  bench HOST[:PORT]/EXPORT [--op read|write|grant] [--size BYTES] [--depth N|--lat]\n"
"        [--clients N] [--span BYTES] [--time SECONDS] [--poll] [--qps N]\n"
"        [--flush native|commit|auto]\n"
"                                             async one-sided READs or WRITEs kept at\n"
"                                             depth N over the whole export; grant:\n"
"                                             open and close grants of BYTES\n"
"\n"
"options:\n"
"  -q, --quiet          no summary, no progress bar\n"
"  -j, --json           ls, stat and bench print JSON (bench: one object)\n"
"  -t, --timeout MS     connect and control replies (default 10000)\n"
"      --op read|write|grant  bench: the operation (default read)\n"
"      --size BYTES     bench: bytes per operation (default 64K)\n"
"      --depth N        bench: operations in flight (default 16)\n"
"      --lat            bench: depth 1, for the latency of one operation\n"
"      --clients N      bench: N connections at once, one thread each (default 1)\n"
"      --span BYTES     bench: cycle over the export's first BYTES (default: all)\n"
"      --time SECONDS   bench: how long (default 10)\n"
"      --poll           bench: busy-poll for completions (sealmr_poll), as\n"
"                       perftest and librpma do, instead of sleeping in sealmr_wait\n"
"      --qps N          put, get, bench: data queue pairs of the session, 1 to 16\n"
"                       (default 2); transfers of 128 KiB and more stripe over them\n"
"      --flush native|commit|auto\n"
"                       put: how the bytes are made durable; bench --op write:\n"
"                       each write made durable so before it counts. native: an\n"
"                       RDMA FLUSH (no daemon CPU; refused where the grant does not\n"
"                       offer it), commit: the daemon's, auto (put's default):\n"
"                       native where offered (stat's flush line), else commit\n"
"  -h, --help           this help\n"
"  -V, --version        the version\n"
"\n"
"PORT defaults to %d. BYTES, OFFSET and LENGTH take K, M, G, T suffixes (powers\n"
"of 1024). MB/s figures are 10^6 bytes per second.\n"
"\n"
"exit status:\n"
"  0  success\n"
"  1  bad usage (options, targets, local arguments)\n"
"  2  cannot connect, connection refused or lost\n"
"  3  the daemon refused the request: no such export, out of range, zero\n"
"     length, no access\n"
"  4  I/O error: local file, remote access error, failed transfer\n"
"  5  the grant was revoked by the daemon during the transfer\n",
		SEALMR_DEFAULT_PORT);
}

enum { OPT_OP = 256, OPT_SIZE, OPT_DEPTH, OPT_TIME, OPT_LAT, OPT_CLIENTS, OPT_SPAN, OPT_POLL,
       OPT_QPS, OPT_FLUSH };

/* Every option, once; each command says which of them it takes (by index). */
static const struct option longopts[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "op", required_argument, NULL, OPT_OP },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "lat", no_argument, NULL, OPT_LAT },
	{ "clients", required_argument, NULL, OPT_CLIENTS },
	{ "span", required_argument, NULL, OPT_SPAN },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "qps", required_argument, NULL, OPT_QPS },
	{ "flush", required_argument, NULL, OPT_FLUSH },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
#define OPTS_COMMON (opt_bit("quiet") | opt_bit("timeout"))

static unsigned opt_bit(const char *name)
{
	for (unsigned i = 0; longopts[i].name; i++)
		if (!strcmp(longopts[i].name, name))
			return 1u << i;
	return 0;
}

/* The table index of the option getopt_long returned as c. */
static unsigned opt_index(int c)
{
	for (unsigned i = 0; longopts[i].name; i++)
		if (longopts[i].val == c)
			return i;
	return 0;
}

static int parse_opts(int argc, char **argv, struct cli_opts *o)
{
	uint64_t v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "qjt:hV", longopts, NULL)) != -1) {
		if (c != '?')
			o->given |= 1u << opt_index(c);
		switch (c) {
		case 'q':
			o->quiet = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (cli_parse_count(optarg, 1, 3600000, &v))
				return cli_fail_msg("--timeout", CLI_USAGE, "'%s' is not a number of "
						    "milliseconds", optarg);
			o->timeout_ms = (int)v;
			break;
		case OPT_OP:
			o->op = optarg;
			break;
		case OPT_SIZE:
			if (cli_parse_size(optarg, &o->size))
				return cli_fail_msg("--size", CLI_USAGE, "'%s' is not a size", optarg);
			break;
		case OPT_DEPTH:
			if (cli_parse_count(optarg, 1, 4096, &v))
				return cli_fail_msg("--depth", CLI_USAGE, "'%s' is not a count from 1 to 4096",
						    optarg);
			o->depth = (unsigned)v;
			break;
		case OPT_LAT:
			o->lat = true;
			break;
		case OPT_POLL:
			o->poll = true;
			break;
		case OPT_QPS:
			if (cli_parse_count(optarg, 1, 16, &v))
				return cli_fail_msg("--qps", CLI_USAGE, "'%s' is not a count from 1 to 16",
						    optarg);
			o->qps = (unsigned)v;
			break;
		case OPT_FLUSH:
			if (!strcmp(optarg, "commit"))
				o->flush_method = SEALMR_FLUSH_COMMIT;
			else if (!strcmp(optarg, "native"))
				o->flush_method = SEALMR_FLUSH_RDMA_FLUSH;
			else if (strcmp(optarg, "auto"))
				return cli_fail_msg("--flush", CLI_USAGE, "'%s' is not a flush method: "
						    "native, commit or auto", optarg);
			o->flush = true;
			break;
		case OPT_CLIENTS:
			if (cli_parse_count(optarg, 1, 1024, &v))
				return cli_fail_msg("--clients", CLI_USAGE,
						    "'%s' is not a count from 1 to 1024", optarg);
			o->clients = (unsigned)v;
			break;
		case OPT_SPAN:
			if (cli_parse_size(optarg, &o->span))
				return cli_fail_msg("--span", CLI_USAGE, "'%s' is not a size", optarg);
			break;
		case OPT_TIME:
			o->seconds = strtod(optarg, &end);
			if (*end || o->seconds <= 0)
				return cli_fail_msg("--time", CLI_USAGE, "'%s' is not a number of "
						    "seconds", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("sealmr %s (protocol for sealmrd)\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct {
		const char *name;
		int (*fn)(const struct cli_opts *, int, char **);
		unsigned takes;
	} cmds[] = {
		{ "ls", cli_ls, OPTS_COMMON | opt_bit("json") },
		{ "stat", cli_stat, OPTS_COMMON | opt_bit("json") },
		{ "put", cli_put, OPTS_COMMON | opt_bit("qps") | opt_bit("flush") },
		{ "get", cli_get, OPTS_COMMON | opt_bit("qps") },
		{ "bench", cli_bench, ~0u },
	};
	struct cli_opts o = {
		.op = "read",
		.size = 64 << 10,
		.depth = 16,
		.seconds = 10,
	};
	int rc = parse_opts(argc, argv, &o);

	if (rc)
		return rc;
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		unsigned extra = o.given & ~cmds[i].takes;

		if (strcmp(argv[optind], cmds[i].name))
			continue;
		/* An option the command would ignore is a mistake worth naming. */
		for (unsigned b = 0; extra && longopts[b].name; b++)
			if (extra & (1u << b))
				return cli_fail_msg(cmds[i].name, CLI_USAGE,
						    "--%s is not an option of %s (sealmr --help "
						    "says which command takes it)",
						    longopts[b].name, cmds[i].name);
		return cmds[i].fn(&o, argc - optind - 1, argv + optind + 1);
	}
	fprintf(stderr, "%s: unknown command '%s' (sealmr --help lists them)\n", cli_prog,
		argv[optind]);
	return CLI_USAGE;
}
