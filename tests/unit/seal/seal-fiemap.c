/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the FIEMAP range checker (seal/fiemap.h) on ordinary files
 * of whatever file system holds TMPDIR (it must implement FIEMAP: ext4, xfs,
 * btrfs; not tmpfs).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fiemap.h"
#include "log.h"
#include "seal-test.h"

#define MiB (1024 * 1024)

struct ft {
	char *dir;
	char *file;
	int fd;
};

static int ft_setup(void **state)
{
	struct ft *t = calloc(1, sizeof(*t));

	t->dir = seal_test_mkdtemp();
	t->file = seal_test_path(t->dir, "f");
	t->fd = -1;
	*state = t;
	return 0;
}

static int ft_teardown(void **state)
{
	struct ft *t = *state;

	if (t->fd >= 0)
		close(t->fd);
	seal_test_rmtree(t->dir);
	free(t->file);
	free(t);
	return 0;
}

static int ft_open(struct ft *t)
{
	t->fd = open(t->file, O_RDWR);
	assert_true(t->fd >= 0);
	return t->fd;
}

static void fiemap_check__sparse_file_shows_hole(void **state)
{
	struct ft *t = *state;
	struct fiemap_report rep;

	seal_test_write(t->file, MiB, 'd', 4096); /* hole 0..1 MiB, then data */
	assert_int_equal(truncate(t->file, 2 * MiB), 0);
	assert_int_equal(fiemap_check(ft_open(t), 0, 2 * MiB, 1, &rep), 0);
	assert_false(fiemap_report_clean(&rep));
	assert_true(rep.kinds & FIEMAP_KIND_HOLE);
	assert_int_equal(rep.first_bad_off, 0);
	assert_int_equal(rep.first_bad_kinds, FIEMAP_KIND_HOLE);
	assert_true(fiemap_report_bytes(&rep, FIEMAP_KIND_HOLE) >= 2 * MiB - 64 * 1024);
	assert_true(fiemap_report_bytes(&rep, FIEMAP_KIND_HOLE) <= 2 * MiB - 4096);
}

static void fiemap_check__written_file_is_clean(void **state)
{
	struct ft *t = *state;
	struct fiemap_report rep;
	char buf[128];

	seal_test_write(t->file, 0, 'd', 2 * MiB);
	assert_int_equal(fiemap_check(ft_open(t), 0, 2 * MiB, 1, &rep), 0);
	assert_true(fiemap_report_clean(&rep));
	assert_int_equal(rep.kinds, FIEMAP_KIND_DATA);
	assert_string_equal(fiemap_report_str(&rep, buf, sizeof(buf)), "clean");
}

static void fiemap_check__fallocated_range_is_unwritten(void **state)
{
	struct ft *t = *state;
	struct fiemap_report rep;

	seal_test_write(t->file, 0, 'd', 0);
	if (fallocate(ft_open(t), 0, 0, MiB) < 0)
		fail_msg("fallocate on %s: %s: this test needs a file system with unwritten extents",
			 t->file, strerror(errno));
	assert_int_equal(fiemap_check(t->fd, 0, MiB, 1, &rep), 0);
	assert_int_equal(rep.kinds, FIEMAP_KIND_UNWRITTEN);
	assert_int_equal(fiemap_report_bytes(&rep, FIEMAP_KIND_UNWRITTEN), MiB);
}

static void fiemap_check__range_past_eof_is_hole(void **state)
{
	struct ft *t = *state;
	struct fiemap_report rep;

	seal_test_write(t->file, 0, 'd', 64 * 1024);
	assert_int_equal(fiemap_check(ft_open(t), 0, MiB, 1, &rep), 0);
	assert_int_equal(rep.kinds, FIEMAP_KIND_HOLE);
	assert_int_equal(rep.first_bad_off, 64 * 1024);
	assert_int_equal(fiemap_report_bytes(&rep, FIEMAP_KIND_HOLE), MiB - 64 * 1024);
}

struct ft_cover {
	uint64_t next;
	unsigned n;
	unsigned data, holes;
};

static int ft_cover_cb(uint64_t off, uint64_t len, unsigned kinds, void *arg)
{
	struct ft_cover *c = arg;

	assert_int_equal(off, c->next);
	assert_true(len > 0);
	c->next = off + len;
	c->n++;
	c->data += kinds == FIEMAP_KIND_DATA;
	c->holes += kinds == FIEMAP_KIND_HOLE;
	return 0;
}

static void fiemap_walk__many_extents_cover_the_range(void **state)
{
	struct ft *t = *state;
	struct ft_cover c = { .next = 12345 };
	const unsigned blocks = 600; /* data, hole, data, ...: > one batch */

	for (unsigned i = 0; i < blocks; i += 2)
		seal_test_write(t->file, (off_t)i * 4096, 'd', 4096);
	assert_int_equal(fiemap_walk(ft_open(t), 12345, blocks * 4096 - 12345, 1, ft_cover_cb, &c),
			 0);
	assert_int_equal(c.next, blocks * 4096);
	assert_int_equal(c.data, blocks / 2 - 2); /* blocks 4, 6 .. 598 */
	assert_int_equal(c.holes, blocks / 2 - 1); /* 3 (from 12345), 5 .. 599 */
}

static int ft_stop_cb(uint64_t off, uint64_t len, unsigned kinds, void *arg)
{
	(*(unsigned *)arg)++;
	return 42;
}

static void fiemap_walk__callback_return_stops(void **state)
{
	struct ft *t = *state;
	unsigned calls = 0;

	seal_test_write(t->file, 8192, 'd', 4096);
	assert_int_equal(fiemap_walk(ft_open(t), 0, 3 * 4096, 0, ft_stop_cb, &calls), 42);
	assert_int_equal(calls, 1);
}

static void fiemap_walk__bad_arguments_are_einval(void **state)
{
	struct ft *t = *state;
	unsigned calls = 0;

	seal_test_write(t->file, 0, 'd', 4096);
	assert_int_equal(fiemap_walk(ft_open(t), 0, 0, 0, ft_stop_cb, &calls), -EINVAL);
	assert_int_equal(fiemap_walk(t->fd, UINT64_MAX, 2, 0, ft_stop_cb, &calls), -EINVAL);
	assert_int_equal(fiemap_walk(t->fd, 0, 4096, 0, NULL, NULL), -EINVAL);
	assert_int_equal(fiemap_walk(-1, 0, 4096, 0, ft_stop_cb, &calls), -EBADF);
	assert_int_equal(calls, 0);
}

static void fiemap_zero_fill__keeps_data_and_fills_holes(void **state)
{
	struct ft *t = *state;
	struct fiemap_report rep;
	uint64_t zeroed = 0;
	char buf[4096], want[4096];

	seal_test_write(t->file, MiB, 'd', 4096);
	assert_int_equal(truncate(t->file, 2 * MiB), 0);
	/* an unwritten extent too, where the file system has them */
	(void)!fallocate(ft_open(t), FALLOC_FL_KEEP_SIZE, 1536 * 1024, 4096);
	assert_int_equal(fiemap_zero_fill(t->fd, 0, 2 * MiB, &zeroed), 0);
	assert_true(zeroed >= 2 * MiB - 64 * 1024);
	assert_int_equal(fsync(t->fd), 0);
	assert_int_equal(fiemap_check(t->fd, 0, 2 * MiB, 1, &rep), 0);
	assert_true(fiemap_report_clean(&rep));
	memset(want, 'd', sizeof(want));
	assert_int_equal(pread(t->fd, buf, sizeof(buf), MiB), sizeof(buf));
	assert_memory_equal(buf, want, sizeof(buf));
	memset(want, 0, sizeof(want));
	assert_int_equal(pread(t->fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_memory_equal(buf, want, sizeof(buf));
}

static void fiemap_report_str__names_the_kinds(void **state)
{
	struct fiemap_report rep = {
		.kinds = FIEMAP_KIND_HOLE | FIEMAP_KIND_SHARED,
		.bytes = { [0] = 4096, [3] = 8192 },
		.first_bad_off = 0, .first_bad_len = 4096, .first_bad_kinds = FIEMAP_KIND_HOLE,
	};
	char buf[256], kinds[64];

	assert_string_equal(fiemap_report_str(&rep, buf, sizeof(buf)),
			    "hole 4096 bytes, shared 8192 bytes; first at 0+4096 (hole)");
	assert_string_equal(fiemap_kinds_str(FIEMAP_KIND_UNWRITTEN | FIEMAP_KIND_UNKNOWN, kinds,
					     sizeof(kinds)), "unwritten, unknown");
	assert_string_equal(fiemap_kinds_str(FIEMAP_KIND_DATA, kinds, sizeof(kinds)), "data");
	assert_int_equal(fiemap_report_bytes(&rep, FIEMAP_KIND_SHARED), 8192);
	assert_int_equal(fiemap_report_bytes(&rep, FIEMAP_KIND_HOLE | FIEMAP_KIND_SHARED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fiemap_check__sparse_file_shows_hole, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_check__written_file_is_clean, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_check__fallocated_range_is_unwritten, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_check__range_past_eof_is_hole, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_walk__many_extents_cover_the_range, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_walk__callback_return_stops, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_walk__bad_arguments_are_einval, ft_setup, ft_teardown),
		cmocka_unit_test_setup_teardown(fiemap_zero_fill__keeps_data_and_fills_holes, ft_setup, ft_teardown),
		cmocka_unit_test(fiemap_report_str__names_the_kinds),
	};

	log_init("seal-fiemap", LOG_LEVEL_ERROR, 0);
	return cmocka_run_group_tests_name("fiemap", tests, NULL, NULL);
}
