/* SPDX-License-Identifier: MIT */
/*
 * config: sealmrd.conf, an INI file read with libinih. Every error names the
 * file, the line and the cause, and a bad file is refused whole.
 */
#ifndef SEALMR_CONF_H
#define SEALMR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "log.h"
#include "seal.h"

#define CONF_NAME_MAX 64
#define CONF_CIDR_MAX 16

enum conf_reg {
	CONF_REG_AUTO,   /* ODP unless the memory can be pinned (tmpfs) */
	CONF_REG_ODP,
	CONF_REG_PINNED,
};

struct conf_cidr {
	struct in_addr net;
	uint32_t mask; /* host order */
};

struct conf_export {
	char name[CONF_NAME_MAX];
	char *path;
	uint64_t offset;
	uint64_t size;
	bool writable;
	enum seal_mode mode;
	enum conf_reg reg;
	bool unshare;
	struct conf_cidr clients[CONF_CIDR_MAX];
	unsigned nclients; /* 0: everyone */
	int line;          /* of the section header, for messages */
};

/* What a daemon takes once, at its start: a reload does not move them. */
struct conf_fixed {
	char listen_host[64];
	uint16_t listen_port;
	char *state_dir;
	char *admin_socket;
	char *pid_file;
	bool log_syslog;
};

struct conf {
	char *file;
	struct conf_fixed fixed;
	/* The rest a reload applies. */
	enum log_level log_level;
	unsigned max_clients;
	struct conf_export *exports;
	unsigned nexports;
};

/* Reads file; on error returns -errno and leaves "FILE:LINE: cause" in err. */
int conf_new(const char *file, struct conf **out, char *err, size_t errlen);
void conf_delete(struct conf **cfg);

const struct conf_export *conf_find_export(const struct conf *cfg, const char *name);
/*
 * Names the settings of now that differ from was in out, like
 * "listen = 10.0.2.15:7472 (running: 10.0.2.15:7471), state_dir = ...";
 * returns how many.
 */
unsigned conf_fixed_diff(const struct conf_fixed *was, const struct conf_fixed *now, char *out,
			 size_t outlen);
/* Moves was's fixed settings into now's place (both configurations stay whole). */
void conf_fixed_swap(struct conf_fixed *a, struct conf_fixed *b);
bool conf_client_allowed(const struct conf_export *exp, const struct in_addr *addr);
/* "10.0.2.0/24" into a conf_cidr; 0 or -EINVAL. */
int conf_parse_cidr(const char *text, struct conf_cidr *out);
/* "256M", "1G", "4096" into bytes; 0 or -EINVAL. */
int conf_parse_size(const char *text, uint64_t *out);
/* A decimal count (no suffix); 0 or -EINVAL. */
int conf_parse_count(const char *text, uint64_t *out);

#endif
