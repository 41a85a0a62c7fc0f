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

struct conf {
	char *file;
	char listen_host[64];
	uint16_t listen_port;
	char *state_dir;
	char *admin_socket;
	char *pid_file;
	enum log_level log_level;
	bool log_syslog;
	unsigned max_clients;
	struct conf_export *exports;
	unsigned nexports;
};

/* Reads file; on error returns -errno and leaves "FILE:LINE: cause" in err. */
int conf_new(const char *file, struct conf **out, char *err, size_t errlen);
void conf_delete(struct conf **cfg);

const struct conf_export *conf_find_export(const struct conf *cfg, const char *name);
bool conf_client_allowed(const struct conf_export *exp, const struct in_addr *addr);
/* "10.0.2.0/24" into a conf_cidr; 0 or -EINVAL. */
int conf_parse_cidr(const char *text, struct conf_cidr *out);
/* "256M", "1G", "4096" into bytes; 0 or -EINVAL. */
int conf_parse_size(const char *text, uint64_t *out);
/* A decimal count (no suffix); 0 or -EINVAL. */
int conf_parse_count(const char *text, uint64_t *out);

#endif
