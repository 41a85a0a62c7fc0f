/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the seal life cycle on ordinary files (seal/seal.h):
 * preparation, the flag and its count, the journal, the safety net and the
 * replay after a crash. Page-cache mode, read-only where the file system
 * refuses stores to immutable files (ext4 does); fs-dax in the VM's
 * tests/integration/seal-*.t. Skipped where FS_IMMUTABLE_FL cannot be set.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fiemap.h"
#include "log.h"
#include "seal.h"
#include "seal-test.h"

#define KiB 1024
#define EXT4_MAGIC 0xEF53
#define TMPFS_MAGIC_ 0x01021994

struct rt {
	char *dir, *state, *file;
	struct seal_registry *reg;
	char err[1024];
	unsigned calls;        /* changed callbacks */
	char why[512];
	bool delete_in_cb;
};

static int rt_setup_in(void **state, const char *base)
{
	struct rt *t = calloc(1, sizeof(*t));
	char *was = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	/* The caller's TMPDIR is the file system under test: put it back. */
	if (base)
		setenv("TMPDIR", base, 1);
	t->dir = seal_test_mkdtemp();
	if (was)
		setenv("TMPDIR", was, 1);
	else
		unsetenv("TMPDIR");
	free(was);
	*state = t;
	if (!seal_test_can_chattr(t->dir)) {
		seal_test_rmtree(t->dir);
		free(t);
		*state = NULL;
		return 0;
	}
	t->state = seal_test_path(t->dir, "state");
	t->file = seal_test_path(t->dir, "file");
	seal_test_write(t->file, 0, 'd', 64 * KiB);
	assert_int_equal(seal_registry_new(t->state, &t->reg, t->err, sizeof(t->err)), 0);
	return 0;
}

static int rt_setup(void **state)
{
	return rt_setup_in(state, NULL);
}

static int rt_setup_shm(void **state)
{
	struct statfs sfs;

	if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC_) {
		*state = NULL;
		return 0;
	}
	return rt_setup_in(state, "/dev/shm");
}

static int rt_teardown(void **state)
{
	struct rt *t = *state;

	if (t == NULL)
		return 0;
	seal_registry_delete(&t->reg);
	seal_test_rmtree(t->dir);
	free(t->state);
	free(t->file);
	free(t);
	return 0;
}

#define RT_GET(state)                                                              \
	({                                                                         \
		struct rt *t_ = *(state);                                          \
		if (t_ == NULL)                                                    \
			fail_msg("the test's setup failed (see the log above)");  \
		t_;                                                                \
	})

static struct seal_params rt_params(const struct rt *t, uint64_t off, uint64_t len)
{
	return (struct seal_params){ .path = t->file, .offset = off, .length = len,
				     .mode = SEAL_MODE_PAGECACHE, .writable = false };
}

static struct seal *rt_seal(struct rt *t, uint64_t off, uint64_t len)
{
	struct seal_params p = rt_params(t, off, len);
	struct seal *s = NULL;

	t->err[0] = '\0';
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	assert_non_null(s);
	return s;
}

/* Does the journal file in the state directory mention the file? */
static bool rt_journalled(const struct rt *t)
{
	char *j = seal_test_path(t->state, "seal.journal"), line[4096];
	FILE *f = fopen(j, "r");
	bool found = false;

	free(j);
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, t->file))
			found = true;
	fclose(f);
	return found;
}

static void seal_new__sets_flag_and_journal_until_deleted(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal *s = rt_seal(t, 0, 64 * KiB);

	assert_true(seal_test_immutable(t->file));
	assert_true(rt_journalled(t));
	assert_int_equal(seal_offset(s), 0);
	assert_int_equal(seal_length(s), 64 * KiB);
	assert_int_equal(seal_get_mode(s), SEAL_MODE_PAGECACHE);
	assert_string_equal(seal_path(s), t->file);
	assert_memory_equal(seal_addr(s), "dddd", 4);
	seal_delete(&s);
	assert_null(s);
	assert_false(seal_test_immutable(t->file));
	assert_false(rt_journalled(t));
}

static void seal_new__extends_and_fills_keeping_data(void **state)
{
	struct rt *t = RT_GET(state);
	struct fiemap_report rep;
	struct seal *s;
	struct stat st;
	int fd;

	assert_int_equal(truncate(t->file, 0), 0);
	seal_test_write(t->file, 128 * KiB, 'x', 4 * KiB); /* hole, data, then EOF */
	s = rt_seal(t, 0, 1024 * KiB);
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_size, 1024 * KiB);
	fd = open(t->file, O_RDONLY);
	assert_int_equal(fiemap_check(fd, 0, 1024 * KiB, 1, &rep), 0);
	close(fd);
	assert_true(fiemap_report_clean(&rep));
	assert_memory_equal((char *)seal_addr(s) + 128 * KiB, "xxxx", 4);
	assert_memory_equal((char *)seal_addr(s) + 64 * KiB, "\0\0\0\0", 4);
	seal_delete(&s);
}

static void seal_delete__last_of_two_lifts_in_either_order(void **state)
{
	struct rt *t = RT_GET(state);

	for (int order = 0; order < 2; order++) {
		struct seal *a = rt_seal(t, 0, 32 * KiB), *b = rt_seal(t, 32 * KiB, 32 * KiB);

		seal_delete(order ? &b : &a);
		assert_true(seal_test_immutable(t->file));
		assert_true(rt_journalled(t));
		seal_delete(order ? &a : &b);
		assert_false(seal_test_immutable(t->file));
		assert_false(rt_journalled(t));
	}
}

static void seal_new__second_seal_past_eof_keeps_flag(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal *a = rt_seal(t, 0, 64 * KiB), *b;
	struct stat st;

	b = rt_seal(t, 64 * KiB, 64 * KiB); /* needs the file extended */
	assert_true(seal_test_immutable(t->file));
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_size, 128 * KiB);
	seal_registry_verify(t->reg); /* our own change is no change */
	assert_int_equal(t->calls, 0);
	seal_delete(&a);
	assert_true(seal_test_immutable(t->file));
	seal_delete(&b);
	assert_false(seal_test_immutable(t->file));
}

static void seal_new__immutable_before_stays_immutable(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal_params p = rt_params(t, 0, 64 * KiB);
	struct seal *s = NULL;

	assert_int_equal(seal_test_chattr(t->file, true), 0);
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	assert_false(rt_journalled(t));
	seal_delete(&s);
	assert_true(seal_test_immutable(t->file));
	p.writable = true;
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), -EACCES);
	assert_non_null(strstr(t->err, "chattr -i"));
	assert_true(seal_test_immutable(t->file));
	p.writable = false;
	p.length = 128 * KiB; /* past EOF: would need writing */
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), -EACCES);
	assert_true(seal_test_immutable(t->file));
	seal_test_chattr(t->file, false);
}

static void rt_changed(struct seal *seal, const char *why, void *arg)
{
	struct rt *t = arg;

	t->calls++;
	snprintf(t->why, sizeof(t->why), "%s", why);
	if (t->delete_in_cb)
		seal_delete(&seal);
}

/* ext4 without DAX faults stores through a mapping of an immutable file:
 * the seal is guarded by a write lease, which any other open breaks. */
static void seal_new__writable_where_stores_fault_takes_a_lease(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal_params p = rt_params(t, 0, 64 * KiB);
	struct seal *s = NULL;
	struct statfs sfs;
	int fd;

	if (statfs(t->dir, &sfs) < 0 || sfs.f_type != EXT4_MAGIC)
		fail_msg("%s is not on ext4 without DAX, the file system this test is about", t->dir);
	p.writable = true;
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	assert_false(rt_journalled(t)); /* a lease dies with its process */
	memcpy(seal_addr(s), "lease", 5); /* a store does not fault */
	seal_registry_set_changed_cb(t->reg, rt_changed, t);
	seal_registry_verify(t->reg);
	assert_int_equal(t->calls, 0);
	fd = open(t->file, O_RDONLY | O_NONBLOCK);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EWOULDBLOCK);
	seal_registry_verify(t->reg);
	assert_int_equal(t->calls, 1);
	assert_non_null(strstr(t->why, "write lease was broken"));
	fd = open(t->file, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0); /* the lease went with the report */
	close(fd);
	seal_delete(&s);
	assert_false(seal_test_immutable(t->file));
}

static void seal_persist__writable_tmpfs_seal(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal_params p = rt_params(t, 4 * KiB, 16 * KiB);
	struct seal *s = NULL;
	char buf[5] = "";
	int fd;

	p.writable = true;
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	memcpy((char *)seal_addr(s) + 100, "seal", 4);
	assert_int_equal(seal_persist(s, 100, 4), 0);
	assert_int_equal(seal_persist(s, 0, 16 * KiB), 0);
	assert_int_equal(seal_persist(s, 16 * KiB, 1), -EINVAL);
	assert_int_equal(seal_persist(s, 1, UINT64_MAX), -EINVAL);
	fd = open(t->file, O_RDONLY);
	assert_int_equal(pread(fd, buf, 4, 4 * KiB + 100), 4);
	close(fd);
	assert_string_equal(buf, "seal");
	seal_delete(&s);
	assert_false(seal_test_immutable(t->file));
}


static void seal_registry_verify__lost_flag_calls_back_once_per_seal(void **state)
{
	struct rt *t = RT_GET(state);
	struct seal *a = rt_seal(t, 0, 32 * KiB), *b = rt_seal(t, 32 * KiB, 32 * KiB);

	seal_registry_set_changed_cb(t->reg, rt_changed, t);
	seal_registry_verify(t->reg);
	assert_int_equal(t->calls, 0);
	assert_int_equal(seal_test_chattr(t->file, false), 0);
	seal_registry_verify(t->reg);
	assert_int_equal(t->calls, 2);
	assert_non_null(strstr(t->why, "immutable flag was cleared"));
	seal_registry_verify(t->reg);
	assert_int_equal(t->calls, 2);
	assert_int_equal(seal_test_chattr(t->file, true), 0); /* someone else's now */
	seal_delete(&a);
	seal_delete(&b);
	assert_true(seal_test_immutable(t->file));
	assert_false(rt_journalled(t));
	seal_test_chattr(t->file, false);
}

static void seal_registry_process__inotify_reports_truncate(void **state)
{
	struct rt *t = RT_GET(state);
	struct pollfd pfd = { .events = POLLIN };

	rt_seal(t, 0, 64 * KiB); /* deleted by the callback */
	seal_registry_set_changed_cb(t->reg, rt_changed, t);
	t->delete_in_cb = true;
	pfd.fd = seal_registry_fd(t->reg);
	assert_true(pfd.fd >= 0);
	seal_registry_process(t->reg); /* nothing pending: must not block */
	assert_int_equal(seal_test_chattr(t->file, false), 0);
	assert_int_equal(truncate(t->file, 0), 0);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	seal_registry_process(t->reg);
	assert_int_equal(t->calls, 1);
	assert_non_null(strstr(t->why, "size changed from 65536 to 0"));
	assert_false(rt_journalled(t));
}

static int rt_seal_and_die(struct rt *t)
{
	struct seal_registry *reg = NULL;
	struct seal_params p = rt_params(t, 0, 64 * KiB);
	char *state2 = seal_test_path(t->dir, "state2");
	struct seal *s = NULL;

	if (seal_registry_new(state2, &reg, NULL, 0) < 0 || seal_new(reg, &p, &s, NULL, 0) < 0)
		return 1;
	_exit(0); /* a crash: no seal_delete, no registry delete */
}

static void seal_registry_new__replay_lifts_what_a_crash_left(void **state)
{
	struct rt *t = RT_GET(state);
	char *state2 = seal_test_path(t->dir, "state2"), *other = seal_test_path(t->dir, "other");
	struct seal_registry *reg = NULL;
	int status;
	pid_t pid;

	seal_test_write(other, 0, 'o', 4 * KiB);
	assert_int_equal(seal_test_chattr(other, true), 0);
	pid = fork();
	if (pid == 0)
		_exit(rt_seal_and_die(t));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_true(seal_test_immutable(t->file));
	assert_int_equal(seal_registry_new(state2, &reg, t->err, sizeof(t->err)), 0);
	assert_false(seal_test_immutable(t->file));
	assert_true(seal_test_immutable(other));
	seal_registry_delete(&reg);
	seal_test_chattr(other, false);
	free(state2);
	free(other);
}

static void seal_registry_delete__releases_every_seal(void **state)
{
	struct rt *t = RT_GET(state);
	char *other = seal_test_path(t->dir, "other");
	struct seal_params p = rt_params(t, 0, 4 * KiB);
	struct seal *s = NULL;

	seal_test_write(other, 0, 'o', 4 * KiB);
	rt_seal(t, 0, 4 * KiB);
	rt_seal(t, 4 * KiB, 4 * KiB);
	p.path = other;
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	seal_registry_delete(&t->reg);
	assert_null(t->reg);
	assert_false(seal_test_immutable(t->file));
	assert_false(seal_test_immutable(other));
	free(other);
}

#define T(f) cmocka_unit_test_setup_teardown(f, rt_setup, rt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(seal_new__sets_flag_and_journal_until_deleted),
		T(seal_new__extends_and_fills_keeping_data),
		T(seal_delete__last_of_two_lifts_in_either_order),
		T(seal_new__second_seal_past_eof_keeps_flag),
		T(seal_new__immutable_before_stays_immutable),
		T(seal_new__writable_where_stores_fault_takes_a_lease),
		cmocka_unit_test_setup_teardown(seal_persist__writable_tmpfs_seal, rt_setup_shm,
						rt_teardown),
		T(seal_registry_verify__lost_flag_calls_back_once_per_seal),
		T(seal_registry_process__inotify_reports_truncate),
		T(seal_registry_new__replay_lifts_what_a_crash_left),
		T(seal_registry_delete__releases_every_seal),
	};

	log_init("seal-registry", LOG_LEVEL_ERROR, 0);
	if (getenv("SEAL_TEST_LOG"))
		log_set_threshold(LOG_LEVEL_DEBUG);
	return cmocka_run_group_tests_name("seal registry", tests, NULL, NULL);
}
