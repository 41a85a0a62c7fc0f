/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "fault.h"
#include "export.h"
#include "log.h"

int export_new(const struct conf_export *cfg, struct export **out)
{
	struct export *exp = FAULT("export.new", ENOMEM) ? NULL : calloc(1, sizeof(*exp));

	if (!exp)
		return -ENOMEM;
	exp->cfg = *cfg;
	exp->cfg.path = FAULT("export.path", ENOMEM) ? NULL : strdup(cfg->path);
	if (!exp->cfg.path) {
		free(exp);
		return -ENOMEM;
	}
	*out = exp;
	return 0;
}

void export_delete(struct export **pexp)
{
	struct export *exp = *pexp;

	if (!exp)
		return;
	seal_delete(&exp->seal);
	free(exp->cfg.path);
	free(exp);
	*pexp = NULL;
}

/*
 * Measured on 7.2: a long-term pin of fs-dax pages fails with EOPNOTSUPP and
 * of an ext4/xfs page-cache file with EFAULT; only shmem pins. ODP works for
 * all and is invalidated when the file changes, so it is the default.
 */
static enum export_reg export_choose_reg(const struct export *exp)
{
	struct statfs sfs;

	switch (exp->cfg.reg) {
	case CONF_REG_ODP:
		return EXPORT_REG_ODP;
	case CONF_REG_PINNED:
		return EXPORT_REG_PINNED;
	case CONF_REG_AUTO:
		break;
	}
	if (exp->cfg.mode == SEAL_MODE_PAGECACHE && statfs(exp->cfg.path, &sfs) == 0 &&
	    sfs.f_type == TMPFS_MAGIC)
		return EXPORT_REG_PINNED;
	return EXPORT_REG_ODP;
}

int export_hold(struct export *exp, struct seal_registry *reg, char *err, size_t errlen)
{
	struct seal_params params = {
		.path = exp->cfg.path,
		.offset = exp->cfg.offset,
		.length = exp->cfg.size,
		.mode = exp->cfg.mode,
		.writable = exp->cfg.writable,
		.unshare = exp->cfg.unshare,
		.map_type = MAP_SHARED,
	};
	int rc;

	if (exp->removed) {
		snprintf(err, errlen, "export '%s' was removed by a reload", exp->cfg.name);
		return -ENOENT;
	}
	if (!exp->seal) {
		rc = seal_new(reg, &params, &exp->seal, err, errlen);
		if (rc)
			return rc;
		exp->reg = export_choose_reg(exp);
		LOG_NOTICE("export '%s': sealed %s [%llu, +%llu), %s registration", exp->cfg.name,
			   exp->cfg.path, (unsigned long long)exp->cfg.offset,
			   (unsigned long long)exp->cfg.size, export_reg_name(exp->reg));
	}
	exp->grants++;
	return 0;
}

void export_release(struct export *exp)
{
	if (exp->grants == 0 || --exp->grants > 0)
		return;
	if (exp->seal) {
		seal_delete(&exp->seal);
		LOG_NOTICE("export '%s': last grant gone, seal on %s lifted", exp->cfg.name,
			   exp->cfg.path);
	}
}

uint32_t export_proto_access(const struct export *exp)
{
	return PROTO_ACCESS_READ | (exp->cfg.writable ? PROTO_ACCESS_WRITE : 0);
}

uint32_t export_proto_mode(const struct export *exp)
{
	return exp->cfg.mode == SEAL_MODE_DAX ? PROTO_MODE_DAX : PROTO_MODE_PAGECACHE;
}

uint32_t export_proto_persist(const struct export *exp)
{
	return exp->cfg.mode == SEAL_MODE_DAX ? PROTO_PERSIST_PMEM : PROTO_PERSIST_PAGECACHE;
}

uint32_t export_proto_reg(enum export_reg reg)
{
	return reg == EXPORT_REG_PINNED ? PROTO_REG_PINNED : PROTO_REG_ODP;
}

const char *export_reg_name(enum export_reg reg)
{
	return reg == EXPORT_REG_PINNED ? "pinned" : "odp";
}
