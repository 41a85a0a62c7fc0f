/* SPDX-License-Identifier: MIT */
/*
 * export: one configured export and its seal. The seal is taken when the
 * first grant on the export is made and lifted when the last one goes, so a
 * file is immutable exactly while some client can reach it.
 */
#ifndef SEALMR_EXPORT_H
#define SEALMR_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"
#include "seal.h"

/* How grants on an export are registered (PROTO_REG_* on the wire). */
enum export_reg {
	EXPORT_REG_ODP,    /* on-demand paging: fs-dax and page-cache files */
	EXPORT_REG_PINNED, /* a long-term pin: tmpfs only */
};

struct export {
	struct conf_export cfg; /* a copy: reloads replace the config */
	struct seal *seal;      /* while grants > 0 */
	enum export_reg reg;
	unsigned grants;
	uint64_t commits;
	bool removed;           /* dropped by a reload, gone with its last grant */
};

int export_new(const struct conf_export *cfg, struct export **out);
void export_delete(struct export **exp);

/*
 * Takes a reference for a grant, sealing the file on the first one. On error
 * returns -errno with the seal module's message in err.
 */
int export_hold(struct export *exp, struct seal_registry *reg, char *err, size_t errlen);
void export_release(struct export *exp);

uint32_t export_proto_access(const struct export *exp);
uint32_t export_proto_mode(const struct export *exp);
uint32_t export_proto_persist(const struct export *exp);
uint32_t export_proto_reg(enum export_reg reg);
const char *export_reg_name(enum export_reg reg);

#endif
