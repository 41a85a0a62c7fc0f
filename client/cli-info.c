/* SPDX-License-Identifier: MIT */
/*
 * sealmr ls / sealmr stat: what a daemon exports, in words or JSON.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "cli.h"

static const char *cli_access_name(unsigned a)
{
	if ((a & SEALMR_READ) && (a & SEALMR_WRITE))
		return "rw";
	return a & SEALMR_WRITE ? "wo" : "ro";
}

static const char *cli_mode_name(unsigned m)
{
	return m == SEALMR_MODE_DAX ? "dax" : m == SEALMR_MODE_PAGECACHE ? "pagecache" : "?";
}

static const char *cli_reg_name(unsigned r)
{
	return r == SEALMR_REG_ODP ? "odp" : r == SEALMR_REG_PINNED ? "pinned" : "?";
}

static const char *cli_persist_name(unsigned p)
{
	return p == SEALMR_PERSIST_PMEM ? "pmem" : p == SEALMR_PERSIST_PAGECACHE ? "pagecache" : "?";
}

static void cli_print_json(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

static void cli_ls_print(const struct cli_opts *o, const struct sealmr_export_info *e, size_t n)
{
	if (o->json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *x = json_object_new_object();

			json_object_object_add(x, "name", json_object_new_string(e[i].name));
			json_object_object_add(x, "size", json_object_new_uint64(e[i].size));
			json_object_object_add(x, "access",
					       json_object_new_string(cli_access_name(e[i].access)));
			json_object_object_add(x, "mode",
					       json_object_new_string(cli_mode_name(e[i].mode)));
			json_object_array_add(arr, x);
		}
		cli_print_json(arr);
		return;
	}
	printf("%-24s %14s %-10s %-6s %s\n", "EXPORT", "BYTES", "SIZE", "ACCESS", "MODE");
	for (size_t i = 0; i < n; i++) {
		char h[32];

		cli_human_size(e[i].size, h, sizeof(h));
		printf("%-24s %14" PRIu64 " %-10s %-6s %s\n", e[i].name, e[i].size, h,
		       cli_access_name(e[i].access), cli_mode_name(e[i].mode));
	}
}

int cli_ls(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct sealmr_export_info *e = NULL;
	struct cli_target t;
	char cmd[300];
	size_t n = 0;
	int rc;

	if (argc != 1)
		return cli_fail_msg("ls", CLI_USAGE, "usage: ls HOST[:PORT]");
	snprintf(cmd, sizeof(cmd), "ls %s", argv[0]);
	s.cmd = cmd;
	rc = cli_parse_target(cmd, argv[0], false, &t);
	if (rc)
		return rc;
	rc = cli_connect(&s, &t, o, 0);
	if (rc)
		return rc;
	rc = sealmr_list(s.conn, &e, &n);
	if (rc)
		rc = cli_fail(&s, CLI_PHASE_CTRL, rc);
	else
		cli_ls_print(o, e, n);
	free(e);
	cli_disconnect(&s);
	return rc;
}

static void cli_stat_print(const struct cli_opts *o, const struct sealmr_stat *st)
{
	char h[32];

	if (o->json) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "name", json_object_new_string(st->name));
		json_object_object_add(x, "path", json_object_new_string(st->path));
		json_object_object_add(x, "size", json_object_new_uint64(st->size));
		json_object_object_add(x, "access", json_object_new_string(cli_access_name(st->access)));
		json_object_object_add(x, "mode", json_object_new_string(cli_mode_name(st->mode)));
		json_object_object_add(x, "registration", json_object_new_string(cli_reg_name(st->reg)));
		json_object_object_add(x, "persistence",
				       json_object_new_string(cli_persist_name(st->persist)));
		json_object_object_add(x, "grants", json_object_new_int64(st->grants));
		json_object_object_add(x, "sealed", json_object_new_boolean(st->sealed != 0));
		json_object_object_add(x, "commits", json_object_new_uint64(st->commits));
		json_object_object_add(x, "flush",
				       json_object_new_string(cli_flush_methods(st->flush_methods)));
		cli_print_json(x);
		return;
	}
	cli_human_size(st->size, h, sizeof(h));
	printf("export:       %s\n", st->name);
	printf("path:         %s\n", st->path);
	printf("size:         %" PRIu64 " bytes (%s)\n", st->size, h);
	printf("access:       %s\n", cli_access_name(st->access));
	printf("mode:         %s\n", cli_mode_name(st->mode));
	printf("registration: %s\n", cli_reg_name(st->reg));
	printf("persistence:  %s\n", cli_persist_name(st->persist));
	printf("grants:       %u\n", st->grants);
	printf("sealed:       %s\n", st->sealed ? "yes" : "no");
	printf("commits:      %" PRIu64 "\n", st->commits);
	printf("flush:        %s\n", cli_flush_methods(st->flush_methods));
}

int cli_stat(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_session s = { 0 };
	struct sealmr_stat st;
	struct cli_target t;
	char cmd[300];
	int rc;

	if (argc != 1)
		return cli_fail_msg("stat", CLI_USAGE, "usage: stat HOST[:PORT]/EXPORT");
	snprintf(cmd, sizeof(cmd), "stat %s", argv[0]);
	s.cmd = cmd;
	rc = cli_parse_target(cmd, argv[0], true, &t);
	if (rc)
		return rc;
	if (t.has_offset)
		return cli_fail_msg(cmd, CLI_USAGE, "stat takes no @OFFSET");
	rc = cli_connect(&s, &t, o, 0);
	if (rc)
		return rc;
	rc = sealmr_stat(s.conn, t.export, &st);
	if (rc)
		rc = cli_fail(&s, CLI_PHASE_CTRL, rc);
	else
		cli_stat_print(o, &st);
	cli_disconnect(&s);
	return rc;
}
