/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of seal_new's and seal_registry_new's parameter checks and of
 * the errno each refusal maps to (seal/seal.h). The refusals that need
 * fs-dax, reflink or another user are in tests/integration/seal-*.t.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "log.h"
#include "seal.h"
#include "seal-test.h"

#define MiB (1024 * 1024)

struct pt {
	char *dir, *state, *file;
	struct seal_registry *reg;
	char err[1024];
};

static int pt_setup(void **state)
{
	struct pt *t = calloc(1, sizeof(*t));

	t->dir = seal_test_mkdtemp();
	t->state = seal_test_path(t->dir, "state");
	t->file = seal_test_path(t->dir, "file");
	seal_test_write(t->file, 0, 'd', 64 * 1024);
	assert_int_equal(seal_registry_new(t->state, &t->reg, t->err, sizeof(t->err)), 0);
	*state = t;
	return 0;
}

static int pt_teardown(void **state)
{
	struct pt *t = *state;

	seal_registry_delete(&t->reg);
	seal_test_rmtree(t->dir);
	free(t->state);
	free(t->file);
	free(t);
	return 0;
}

static struct seal_params pt_params(const struct pt *t)
{
	return (struct seal_params){ .path = t->file, .length = 64 * 1024,
				     .mode = SEAL_MODE_PAGECACHE, .writable = false };
}

/* seal_new must fail with want, say why, leave the out-pointer as it was
 * (a caller may keep an earlier seal there) and leave no flag. */
static void pt_refused(struct pt *t, const struct seal_params *p, int want, const char *says)
{
	struct seal *const untouched = (struct seal *)&t->err;
	struct seal *s = untouched;

	t->err[0] = '\0';
	assert_int_equal(seal_new(t->reg, p, &s, t->err, sizeof(t->err)), want);
	assert_ptr_equal(s, untouched);
	if (says)
		assert_non_null(strstr(t->err, says));
	assert_false(seal_test_immutable(t->file));
}

static void seal_new__private_mapping_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.map_type = MAP_PRIVATE;
	pt_refused(t, &p, -EINVAL, "private");
}

static void seal_new__unknown_map_type_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.map_type = 0x40;
	pt_refused(t, &p, -EINVAL, "map_type");
}

static void seal_new__zero_length_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.length = 0;
	pt_refused(t, &p, -EINVAL, "empty");
}

static void seal_new__unaligned_offset_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.offset = 512;
	pt_refused(t, &p, -EINVAL, "page size");
}

static void seal_new__overflowing_range_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.offset = UINT64_MAX & ~(uint64_t)0xfff;
	p.length = 8192;
	pt_refused(t, &p, -EINVAL, "too large");
}

static void seal_new__unknown_mode_is_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.mode = (enum seal_mode)7;
	pt_refused(t, &p, -EINVAL, "mode");
}

static void seal_new__null_arguments_are_einval(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);
	struct seal *s = NULL;

	assert_int_equal(seal_new(NULL, &p, &s, NULL, 0), -EINVAL);
	assert_int_equal(seal_new(t->reg, NULL, &s, NULL, 0), -EINVAL);
	assert_int_equal(seal_new(t->reg, &p, NULL, NULL, 0), -EINVAL);
	p.path = NULL;
	pt_refused(t, &p, -EINVAL, "no path");
}

static void seal_new__missing_file_is_enoent(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);
	char *missing = seal_test_path(t->dir, "missing");

	p.path = missing;
	pt_refused(t, &p, -ENOENT, "missing");
	free(missing);
}

static void seal_new__directory_is_refused(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);

	p.path = t->dir;
	pt_refused(t, &p, -EISDIR, t->dir);
}

static void seal_new__not_dax_is_eopnotsupp(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);
	struct stat before, after;

	p.mode = SEAL_MODE_DAX;
	p.length = 4 * MiB; /* would extend the file: a refusal must not */
	stat(t->file, &before);
	pt_refused(t, &p, -EOPNOTSUPP, "set mode = pagecache in the export");
	assert_non_null(strstr(t->err, "not on a DAX file system"));
	stat(t->file, &after);
	assert_int_equal(after.st_size, before.st_size);
}

static void seal_new__other_writer_is_ebusy(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);
	int fd = open(t->file, O_RDWR);

	assert_true(fd >= 0);
	pt_refused(t, &p, -EBUSY, "open for write");
	close(fd);
}

/* Runs fn in a child (which may drop privileges); returns its exit code. */
static int pt_in_child(struct pt *t, int (*fn)(struct pt *t))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(t));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int pt_seal_without_cap(struct pt *t)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	struct seal_params p = pt_params(t);
	struct seal *s = NULL;
	int rc;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 100;
	data[CAP_TO_INDEX(CAP_LINUX_IMMUTABLE)].effective &= ~CAP_TO_MASK(CAP_LINUX_IMMUTABLE);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return 101;
	rc = seal_new(t->reg, &p, &s, t->err, sizeof(t->err));
	if (rc != -EACCES)
		return 102;
	if (strstr(t->err, "CAP_LINUX_IMMUTABLE") == NULL)
		return 103;
	return seal_test_immutable(t->file) ? 104 : 0;
}

static void seal_new__without_cap_linux_immutable_is_eacces(void **state)
{
	struct pt *t = *state;

	if (!seal_test_can_chattr(t->dir))
		fail_msg("chattr +i in %s is refused: run as root on ext4, xfs or tmpfs", t->dir);
	assert_int_equal(pt_in_child(t, pt_seal_without_cap), 0);
}

static int pt_seal_as_nobody(struct pt *t)
{
	struct seal_params p = pt_params(t);
	struct seal *s = NULL;
	int rc;

	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 100;
	rc = seal_new(t->reg, &p, &s, t->err, sizeof(t->err));
	if (rc != -EACCES)
		return 102;
	if (!strstr(t->err, "no write access") || !strstr(t->err, "no CAP_LINUX_IMMUTABLE"))
		return 103;
	return 0;
}

static void seal_new__without_write_access_is_eacces(void **state)
{
	struct pt *t = *state;

	if (geteuid() != 0)
		fail_msg("this test drops root's capabilities: run it as root (scripts/check does)");
	chmod(t->dir, 0755);
	assert_int_equal(pt_in_child(t, pt_seal_as_nobody), 0);
}

static void seal_registry_new__bad_arguments(void **state)
{
	struct pt *t = *state;
	struct seal_registry *reg = NULL;
	char err[256] = "";

	assert_int_equal(seal_registry_new(NULL, &reg, NULL, 0), -EINVAL);
	assert_int_equal(seal_registry_new(t->state, NULL, NULL, 0), -EINVAL);
	assert_int_equal(seal_registry_new(t->file, &reg, err, sizeof(err)), -ENOTDIR);
	assert_null(reg);
	assert_non_null(strstr(err, t->file));
}

static void seal_registry_new__busy_state_dir_is_ebusy(void **state)
{
	struct pt *t = *state;
	struct seal_registry *reg = NULL;
	char err[512] = "";

	assert_int_equal(seal_registry_new(t->state, &reg, err, sizeof(err)), -EBUSY);
	assert_null(reg);
	assert_non_null(strstr(err, "state_dir"));
}

/* seal_delete unmaps, lifts the flag of the file's last seal and clears the
 * caller's pointer, so that a second delete through it is a no-op rather
 * than a double free (ASan would report it); seal_registry_delete likewise. */
static void seal_delete__clears_the_pointer_and_lifts_the_flag(void **state)
{
	struct pt *t = *state;
	struct seal_params p = pt_params(t);
	struct seal *s = NULL;

	if (!seal_test_can_chattr(t->dir))
		fail_msg("chattr +i in %s is refused: run as root on ext4, xfs or tmpfs", t->dir);
	assert_int_equal(seal_new(t->reg, &p, &s, t->err, sizeof(t->err)), 0);
	assert_non_null(s);
	assert_true(seal_test_immutable(t->file));
	seal_delete(&s);
	assert_null(s);
	assert_false(seal_test_immutable(t->file));
	seal_delete(&s);
	seal_delete(NULL);
	assert_false(seal_test_immutable(t->file));
	seal_registry_delete(&t->reg);
	assert_null(t->reg);
	seal_registry_delete(&t->reg);
	seal_registry_delete(NULL);
	/* The registry's journal lock went with it: a new registry opens. */
	assert_int_equal(seal_registry_new(t->state, &t->reg, t->err, sizeof(t->err)), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(seal_new__private_mapping_is_einval),
		T(seal_new__unknown_map_type_is_einval),
		T(seal_new__zero_length_is_einval),
		T(seal_new__unaligned_offset_is_einval),
		T(seal_new__overflowing_range_is_einval),
		T(seal_new__unknown_mode_is_einval),
		T(seal_new__null_arguments_are_einval),
		T(seal_new__missing_file_is_enoent),
		T(seal_new__directory_is_refused),
		T(seal_new__not_dax_is_eopnotsupp),
		T(seal_new__other_writer_is_ebusy),
		T(seal_new__without_cap_linux_immutable_is_eacces),
		T(seal_new__without_write_access_is_eacces),
		T(seal_registry_new__bad_arguments),
		T(seal_registry_new__busy_state_dir_is_ebusy),
		T(seal_delete__clears_the_pointer_and_lifts_the_flag),
	};

	log_init("seal-params", LOG_LEVEL_ERROR, 0);
	if (getenv("SEAL_TEST_LOG"))
		log_set_threshold(LOG_LEVEL_DEBUG);
	return cmocka_run_group_tests_name("seal params", tests, NULL, NULL);
}
