/* SPDX-License-Identifier: MIT */
/*
 * seal: MAP_DIRECT's promise in user space. See seal.h for the contract.
 *
 * A seal_file is one sealed inode (dev, ino) with the descriptor kept open
 * for its whole life: once the file carries FS_IMMUTABLE_FL nobody, us
 * included, can open it for write again, so everything that needs write
 * access happens on this descriptor, before the flag is set. Seals on the
 * same file share it and count; the last one lifts the flag. This file: the
 * registry, seals and their mappings; seal-prep.c checks and prepares a
 * range, seal-watch.c notices changes behind a seal's back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/fs.h>
#include <libpmem.h>

#include "fault.h"
#include "journal.h"
#include "seal-internal.h"

void seal_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int seal_fail_at(const char *file, int line, int rc, char *err, size_t errlen, const char *fmt,
		 ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERROR, file, line, "seal: %s (%s)", msg, strerror(-rc));
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

size_t seal_page(void)
{
	static size_t page;

	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

/*
 * Maps the range at a virtual address congruent to its file offset modulo
 * 2 MiB, so that the fs-dax fault handler can use PMD (huge) mappings:
 * reserve len + 2 MiB of PROT_NONE, map inside it with MAP_FIXED, give back
 * the rest.
 */
static int seal_map(struct seal *s, int fd, const char *path, char *err, size_t errlen)
{
	int prot = s->writable ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = s->mode == SEAL_MODE_DAX ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED;
	size_t resv_len = s->map_len + SEAL_HUGE;
	uintptr_t base, want;
	void *resv, *addr;

	resv = FAULT("seal.reserve", ENOMEM)
		   ? MAP_FAILED
		   : mmap(NULL, resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	if (resv == MAP_FAILED) {
		resv = NULL;
		addr = FAULT("seal.map_unaligned", ENOMEM)
			   ? MAP_FAILED
			   : mmap(NULL, s->map_len, prot, flags, fd, (off_t)s->offset);
	} else {
		base = (uintptr_t)resv;
		want = ((base + SEAL_HUGE - 1) & ~(uintptr_t)(SEAL_HUGE - 1)) +
		       (uintptr_t)(s->offset & (SEAL_HUGE - 1));
		if (want - base >= SEAL_HUGE)
			want -= SEAL_HUGE;
		addr = FAULT("seal.map", ENOMEM)
			       ? MAP_FAILED
			       : mmap((void *)want, s->map_len, prot, flags | MAP_FIXED, fd,
				      (off_t)s->offset);
	}
	if (addr == MAP_FAILED) {
		int e = errno;

		if (resv)
			munmap(resv, resv_len);
		if (e == EOPNOTSUPP && s->mode == SEAL_MODE_DAX)
			return SEAL_FAIL(-EOPNOTSUPP, err, errlen,
					 "%s: not on a DAX file system (mmap with MAP_SYNC refused); set mode = pagecache in the export to serve it through the page cache",
					 path);
		return SEAL_FAIL(-e, err, errlen, "%s: mmap(len=%zu, off=%llu, %s%s): %s", path,
				 s->map_len, (unsigned long long)s->offset,
				 s->mode == SEAL_MODE_DAX ? "MAP_SHARED_VALIDATE|MAP_SYNC" : "MAP_SHARED",
				 s->writable ? ", PROT_WRITE" : "", strerror(e));
	}
	if (resv) {
		uintptr_t a = (uintptr_t)addr, top = (uintptr_t)resv + resv_len;

		if (a > (uintptr_t)resv)
			munmap(resv, a - (uintptr_t)resv);
		if (a + s->map_len < top)
			munmap((void *)(a + s->map_len), top - (a + s->map_len));
	}
	s->addr = addr;
	return 0;
}

/* First seal of a file: journal, then set the flag, then watch. */
static int seal_file_start(struct seal_file *f, char *err, size_t errlen)
{
	struct seal_registry *reg = f->reg;
	char proc[64];
	int rc;

	if (!f->rdonly) {
		rc = journal_add(reg->journal, f->dev, f->ino, f->path);
		if (rc < 0)
			return SEAL_FAIL(rc, err, errlen, "%s: cannot record the seal in %s: %s",
					 f->path, journal_path(reg->journal), strerror(-rc));
		rc = seal_set_immutable(f->fd, true);
		if (rc < 0) {
			journal_remove(reg->journal, f->dev, f->ino);
			if (rc == -EPERM)
				return SEAL_FAIL(-EACCES, err, errlen,
						 "%s: setting the immutable flag was refused: no CAP_LINUX_IMMUTABLE, or not the file's owner",
						 f->path);
			return SEAL_FAIL(rc == -ENOTTY ? -EOPNOTSUPP : rc, err, errlen,
					 "%s: cannot set the immutable flag (FS_IOC_SETFLAGS): %s",
					 f->path, strerror(-rc));
		}
		f->ours = true;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	f->wd = inotify_add_watch(reg->ino_fd, proc, SEAL_WATCH_MASK);
	if (f->wd < 0)
		LOG_WARN("seal: %s: inotify_add_watch: %s; only the periodic check watches it",
			 f->path, strerror(errno));
	f->next = reg->files;
	reg->files = f;
	LOG_INFO("seal: %s (dev %llx ino %llu): %s", f->path, (unsigned long long)f->dev,
		 (unsigned long long)f->ino,
		 f->ours ? "immutable flag set" : "was immutable before; flag left as it is");
	return 0;
}

/* Drops one reference; the last lifts the flag (if ours and not lost). */
void seal_file_put(struct seal_file *f)
{
	struct seal_registry *reg = f->reg;
	struct seal_file **pp;
	int rc = 0;

	if (--f->refs > 0)
		return;
	if (f->ours && f->lost) {
		LOG_WARN("seal: %s: changed behind the seal; its immutable flag is left as it is now",
			 f->path);
	} else if (f->ours) {
		rc = seal_set_immutable(f->fd, false);
		if (rc < 0)
			LOG_ERR("seal: %s: cannot lift the immutable flag: %s; the journal keeps it for the next start",
				f->path, strerror(-rc));
		else
			LOG_INFO("seal: %s: immutable flag lifted", f->path);
	}
	if (f->ours && (f->lost || rc == 0))
		journal_remove(reg->journal, f->dev, f->ino);
	if (f->leased && fcntl(f->fd, F_SETLEASE, F_UNLCK) < 0 && !f->lost)
		LOG_WARN("seal: %s: F_SETLEASE(F_UNLCK): %s", f->path, strerror(errno));
	if (f->wd >= 0)
		inotify_rm_watch(reg->ino_fd, f->wd);
	for (pp = &reg->files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	seal_file_free(f);
}

/*
 * Some file systems refuse write faults on an immutable file: ext4 without
 * DAX returns SIGBUS from page_mkwrite (measured on 7.2), which would turn
 * every store and every RDMA write into a fault. Let the kernel store the
 * first byte's own value through the freshly written-back mapping (a pipe
 * read into it, which reports EFAULT instead of raising SIGBUS). Only on a
 * file's first seal, before anything can be registered over it; -EOPNOTSUPP
 * (unlogged) sends the caller to seal_file_lease.
 */
static int seal_probe_write(struct seal *s, char *err, size_t errlen)
{
	const char *path = s->file->path;
	int p[2], rc = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return SEAL_FAIL(-errno, err, errlen, "pipe2: %s", strerror(errno));
	if (msync(s->addr, seal_page(), MS_SYNC) < 0 || write(p[1], s->addr, 1) != 1) {
		rc = SEAL_FAIL(-errno, err, errlen, "%s: probing the mapping: %s", path,
			       strerror(errno));
		goto out_close;
	}
	/* Not logged: the caller guards the file with a lease instead. */
	if (read(p[0], s->addr, 1) != 1) {
		seal_errf(err, errlen, "%s: this file system refuses stores through a mapping of an immutable file (%s)",
			  path, strerror(errno));
		rc = -EOPNOTSUPP;
	}
out_close:
	close(p[0]);
	close(p[1]);
	return rc;
}

/*
 * The page-cache guard where the flag cannot work (seal_probe_write): a write
 * lease, which the kernel breaks when anyone else opens the file, before the
 * open returns. No signal: the lease's owner is cleared so that a library
 * user does not die of SIGIO; the periodic check sees the break (F_GETLEASE)
 * and the opener waits at most that long.
 */
static int seal_file_lease(struct seal_file *f, char *err, size_t errlen)
{
	int rc = seal_set_immutable(f->fd, false);

	if (rc < 0)
		return SEAL_FAIL(rc, err, errlen, "%s: cannot lift the immutable flag: %s", f->path,
				 strerror(-rc));
	journal_remove(f->reg->journal, f->dev, f->ino);
	f->ours = false;
	if (fcntl(f->fd, F_SETLEASE, F_WRLCK) < 0) {
		rc = -errno;
		if (rc == -EAGAIN || rc == -EBUSY)
			return SEAL_FAIL(-EBUSY, err, errlen,
					 "%s: open in another process: on this file system a writable page-cache seal is guarded by a write lease, which needs sealmrd to be the file's only opener",
					 f->path);
		return SEAL_FAIL(rc == -EPERM ? -EACCES : rc, err, errlen,
				 "%s: F_SETLEASE(F_WRLCK): %s (a lease needs the file's owner or CAP_LEASE)",
				 f->path, strerror(-rc));
	}
	if (fcntl(f->fd, F_SETOWN, 0) < 0)
		LOG_WARN("seal: %s: F_SETOWN 0: %s; a lease break will raise SIGIO", f->path,
			 strerror(errno));
	f->leased = true;
	LOG_NOTICE("seal: %s: this file system refuses stores to an immutable file; guarded by a write lease instead (whoever opens it breaks the lease and its grants are revoked)",
		   f->path);
	return 0;
}

int seal_new(struct seal_registry *reg, const struct seal_params *params, struct seal **out,
	     char *err, size_t errlen)
{
	struct seal_file *f;
	struct seal *s;
	bool fresh;
	int rc;

	if (reg == NULL || params == NULL || out == NULL)
		return -EINVAL;
	rc = seal_check_params(params, err, errlen);
	if (rc < 0)
		return rc;
	rc = seal_file_get(reg, params, &f, &fresh, err, errlen);
	if (rc < 0)
		return rc;
	if (params->mode == SEAL_MODE_DAX) {
		rc = seal_check_dax(f->fd, params->path, err, errlen);
		if (rc < 0)
			goto err_free_file;
	}
	s = FAULT("seal.new", ENOMEM) ? NULL : calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = SEAL_FAIL(-ENOMEM, err, errlen, "%s: the seal: %s", params->path,
			       strerror(ENOMEM));
		goto err_free_file;
	}
	*s = (struct seal){ .file = f, .offset = params->offset, .length = params->length,
			    .mode = params->mode, .writable = params->writable };
	s->map_len = (size_t)((params->length + seal_page() - 1) & ~(uint64_t)(seal_page() - 1));
	rc = seal_prepare(f, params, err, errlen);
	if (rc < 0)
		goto err_free_seal;
	rc = seal_map(s, f->fd, f->path, err, errlen);
	if (rc < 0)
		goto err_free_seal;
	if (fresh) {
		rc = seal_file_start(f, err, errlen);
		if (rc < 0)
			goto err_unmap;
		if (s->writable) {
			rc = seal_probe_write(s, err, errlen);
			if (rc == -EOPNOTSUPP && s->mode == SEAL_MODE_PAGECACHE) {
				rc = seal_file_lease(f, err, errlen);
				if (rc == 0)
					rc = seal_probe_write(s, err, errlen);
			}
			if (rc < 0)
				goto err_stop_file;
		}
	}
	f->refs++;
	s->next = f->seals;
	f->seals = s;
	LOG_NOTICE("seal: sealed %s %llu+%llu (%s, %s) at %p", f->path,
		   (unsigned long long)s->offset, (unsigned long long)s->length,
		   s->mode == SEAL_MODE_DAX ? "dax" : "pagecache", s->writable ? "rw" : "ro", s->addr);
	*out = s;
	return 0;

err_stop_file:
	munmap(s->addr, s->map_len);
	free(s);
	f->refs = 1;
	seal_file_put(f); /* lifts the flag, drops the journal record */
	return rc;
err_unmap:
	munmap(s->addr, s->map_len);
err_free_seal:
	free(s);
err_free_file:
	if (fresh)
		seal_file_free(f);
	return rc;
}

void seal_delete(struct seal **sp)
{
	struct seal *s = sp ? *sp : NULL;
	struct seal_file *f;

	if (s == NULL)
		return;
	f = s->file;
	for (struct seal **pp = &f->seals; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (munmap(s->addr, s->map_len) < 0)
		LOG_ERR("seal: munmap(%p, %zu) of %s: %s", s->addr, s->map_len, f->path,
			strerror(errno));
	LOG_NOTICE("seal: released %s %llu+%llu", f->path, (unsigned long long)s->offset,
		   (unsigned long long)s->length);
	free(s);
	*sp = NULL;
	seal_file_put(f);
}

int seal_registry_new(const char *state_dir, struct seal_registry **out, char *err,
		      size_t errlen)
{
	struct seal_registry *reg;
	int rc;

	if (state_dir == NULL || out == NULL)
		return -EINVAL;
	reg = FAULT("seal.registry", ENOMEM) ? NULL : calloc(1, sizeof(*reg));
	if (reg == NULL) {
		seal_errf(err, errlen, "seal registry: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = journal_open(state_dir, &reg->journal, err, errlen);
	if (rc < 0)
		goto err_free;
	rc = journal_replay(reg->journal, seal_lift_stale, NULL);
	if (rc < 0) {
		seal_errf(err, errlen, "%s: cannot rewrite the seal journal: %s",
			  journal_path(reg->journal), strerror(-rc));
		goto err_close_journal;
	}
	reg->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (reg->ino_fd < 0) {
		rc = -errno;
		seal_errf(err, errlen, "inotify_init1: %s", strerror(errno));
		goto err_close_journal;
	}
	*out = reg;
	return 0;

err_close_journal:
	journal_close(&reg->journal);
err_free:
	free(reg);
	return rc;
}

void seal_registry_delete(struct seal_registry **regp)
{
	struct seal_registry *reg = regp ? *regp : NULL;

	if (reg == NULL)
		return;
	while (reg->files) {
		struct seal *s = reg->files->seals;

		if (s == NULL) { /* only a temporary hold: cannot happen here */
			LOG_ERR("seal: %s: file without seals at shutdown", reg->files->path);
			reg->files->refs = 1;
			seal_file_put(reg->files);
			continue;
		}
		LOG_NOTICE("seal: releasing %s %llu+%llu at shutdown", s->file->path,
			   (unsigned long long)s->offset, (unsigned long long)s->length);
		seal_delete(&s);
	}
	close(reg->ino_fd);
	journal_close(&reg->journal);
	free(reg);
	*regp = NULL;
}

void *seal_addr(const struct seal *seal)
{
	return seal->addr;
}

uint64_t seal_length(const struct seal *seal)
{
	return seal->length;
}

uint64_t seal_offset(const struct seal *seal)
{
	return seal->offset;
}

const char *seal_path(const struct seal *seal)
{
	return seal->file->path;
}

enum seal_mode seal_get_mode(const struct seal *seal)
{
	return seal->mode;
}

int seal_persist(struct seal *seal, uint64_t off, uint64_t len)
{
	uintptr_t start, end, page = seal_page();

	if (seal == NULL || off > seal->length || len > seal->length - off)
		return -EINVAL;
	if (len == 0 || !seal->writable)
		return 0;
	if (seal->mode == SEAL_MODE_DAX) {
		pmem_persist((char *)seal->addr + off, len);
		return 0;
	}
	start = ((uintptr_t)seal->addr + off) & ~(page - 1);
	end = (uintptr_t)seal->addr + off + len;
	if (msync((void *)start, end - start, MS_SYNC) < 0) {
		int e = errno;

		LOG_ERR("seal: msync(%s %llu+%llu): %s", seal->file->path, (unsigned long long)off,
			(unsigned long long)len, strerror(e));
		return -e;
	}
	return 0;
}
