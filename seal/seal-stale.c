/* SPDX-License-Identifier: MIT */
/*
 * seal-stale: the immutable flags a daemon that died left set. The seal
 * journal (journal.c) only stores which inodes they were; what is safe to
 * undo at the next start is the seal module's call, here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "log.h"
#include "seal-internal.h"

/*
 * What the registry does with a stale journal record at start: the flag a
 * dead daemon set comes off, only if the path still names the inode that
 * was sealed and the flag is still there. 1 lifted, 0 nothing to do (the
 * record is done with), <0 the lift failed (keep the record).
 */
int seal_lift_stale(uint64_t dev, uint64_t ino, const char *path, void *arg)
{
	struct stat st;
	int fd, flags, rc = 0;

	(void)arg;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		LOG_WARN("seal journal: %s (dev %llx ino %llu): %s; nothing to lift", path,
			 (unsigned long long)dev, (unsigned long long)ino, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		LOG_ERR("seal journal: fstat(%s): %s", path, strerror(-rc));
		goto out_close;
	}
	if ((uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino) {
		LOG_WARN("seal journal: %s is no longer dev %llx ino %llu (now %llx/%llu); left alone",
			 path, (unsigned long long)dev, (unsigned long long)ino,
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		goto out_close;
	}
	rc = seal_get_flags(fd, &flags);
	if (rc) {
		LOG_ERR("seal journal: FS_IOC_GETFLAGS(%s): %s", path, strerror(-rc));
		goto out_close;
	}
	if (!(flags & FS_IMMUTABLE_FL)) {
		LOG_NOTICE("seal journal: %s is not immutable (crash before the flag was set, or lifted by hand)",
			   path);
		goto out_close;
	}
	rc = seal_set_immutable(fd, false);
	if (rc) {
		LOG_ERR("seal journal: cannot lift the immutable flag of %s: %s%s", path,
			strerror(-rc), rc == -EPERM ? " (CAP_LINUX_IMMUTABLE needed)" : "");
		goto out_close;
	}
	LOG_NOTICE("seal journal: lifted the stale seal's immutable flag of %s (dev %llx ino %llu)",
		   path, (unsigned long long)dev, (unsigned long long)ino);
	rc = 1;
out_close:
	close(fd);
	return rc;
}
