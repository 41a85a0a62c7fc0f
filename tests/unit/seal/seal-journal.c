/* SPDX-License-Identifier: MIT */
/* Unit tests of the seal journal (seal/journal.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "journal.h"
#include "log.h"
#include "seal-internal.h"
#include "seal-test.h"

struct jt {
	char *dir;   /* scratch directory */
	char *state; /* dir/state/sub: created by journal_open */
};

static int jt_setup(void **state)
{
	struct jt *t = calloc(1, sizeof(*t));

	t->dir = seal_test_mkdtemp();
	t->state = seal_test_path(t->dir, "state/sub");
	*state = t;
	return 0;
}

static int jt_teardown(void **state)
{
	struct jt *t = *state;

	seal_test_rmtree(t->dir);
	free(t->state);
	free(t);
	return 0;
}

static void journal_open__creates_state_dir(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;
	struct stat st;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(stat(t->state, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(journal_count(j), 0);
	journal_close(&j);
	assert_null(j);
}

static void journal_open__second_open_is_ebusy(void **state)
{
	struct jt *t = *state;
	struct journal *a = NULL, *b = NULL;
	char err[256] = "";

	assert_int_equal(journal_open(t->state, &a, NULL, 0), 0);
	assert_int_equal(journal_open(t->state, &b, err, sizeof(err)), -EBUSY);
	assert_null(b);
	assert_non_null(strstr(err, "in use"));
	journal_close(&a);
	assert_int_equal(journal_open(t->state, &b, NULL, 0), 0);
	journal_close(&b);
}

static void journal_open__state_dir_is_a_file(void **state)
{
	struct jt *t = *state;
	char *file = seal_test_path(t->dir, "plain");
	struct journal *j = NULL;
	char err[256] = "";

	seal_test_write(file, 0, 'x', 1);
	assert_int_equal(journal_open(file, &j, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, file));
	free(file);
}

static void journal_add__persists_across_reopen(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;
	const struct journal_entry *e;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 0x10301, 131, "/mnt/dax-xfs/a"), 0);
	assert_int_equal(journal_add(j, 0x10300, 12, "/mnt/dax-ext4/b"), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_count(j), 2);
	e = journal_get(j, 0);
	assert_int_equal(e->dev, 0x10301);
	assert_int_equal(e->ino, 131);
	assert_string_equal(e->path, "/mnt/dax-xfs/a");
	e = journal_get(j, 1);
	assert_string_equal(e->path, "/mnt/dax-ext4/b");
	assert_null(journal_get(j, 2));
	journal_close(&j);
}

static void journal_add__same_dev_ino_replaces(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 1, 2, "/old"), 0);
	assert_int_equal(journal_add(j, 1, 2, "/new"), 0);
	assert_int_equal(journal_count(j), 1);
	assert_string_equal(journal_get(j, 0)->path, "/new");
	journal_close(&j);
}

static void journal_add__odd_path_round_trips(void **state)
{
	struct jt *t = *state;
	const char *odd = "/x/a b\nc%41\t\x7f\xc3\xa9";
	struct journal *j = NULL;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 7, 8, odd), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_count(j), 1);
	assert_string_equal(journal_get(j, 0)->path, odd);
	journal_close(&j);
}

static void journal_add__relative_path_is_einval(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 1, 2, "relative"), -EINVAL);
	assert_int_equal(journal_count(j), 0);
	journal_close(&j);
}

static void journal_add__leaves_no_temporary(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;
	char *tmp = seal_test_path(t->state, "seal.journal.tmp");
	char *file = seal_test_path(t->state, "seal.journal");

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 1, 2, "/a"), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(file, F_OK), 0);
	journal_close(&j);
	free(tmp);
	free(file);
}

static void journal_remove__persists_and_absent_is_fine(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, 1, 2, "/a"), 0);
	assert_int_equal(journal_add(j, 3, 4, "/b"), 0);
	assert_int_equal(journal_remove(j, 1, 2), 0);
	assert_int_equal(journal_remove(j, 9, 9), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_count(j), 1);
	assert_int_equal(journal_get(j, 0)->ino, 4);
	journal_close(&j);
}

static void journal_open__drops_malformed_lines(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL;
	char *file;
	FILE *f;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	journal_close(&j);
	file = seal_test_path(t->state, "seal.journal");
	f = fopen(file, "w");
	fprintf(f, "sealmr-seal-journal 1\nzz 1 /bad-dev\n1 2 relative\n1 2 /bad%%zz\n"
		   "ab 42 /good%%20one\n1\n");
	fclose(f);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_count(j), 1);
	assert_int_equal(journal_get(j, 0)->dev, 0xab);
	assert_string_equal(journal_get(j, 0)->path, "/good one");
	journal_close(&j);
	free(file);
}

static void journal_replay__lifts_recorded_flag(void **state)
{
	struct jt *t = *state;
	char *file = seal_test_path(t->dir, "sealed");
	struct journal *j = NULL;
	struct stat st;

	if (!seal_test_can_chattr(t->dir))
		fail_msg("chattr +i in %s is refused: run as root on ext4, xfs or tmpfs", t->dir);
	seal_test_write(file, 0, 'x', 4096);
	stat(file, &st);
	assert_int_equal(seal_test_chattr(file, true), 0);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, st.st_dev, st.st_ino, file), 0);
	assert_int_equal(journal_replay(j, seal_lift_stale, NULL), 1);
	assert_false(seal_test_immutable(file));
	assert_int_equal(journal_count(j), 0);
	journal_close(&j);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_count(j), 0);
	journal_close(&j);
	free(file);
}

static void journal_replay__leaves_other_inode_alone(void **state)
{
	struct jt *t = *state;
	char *file = seal_test_path(t->dir, "other");
	struct journal *j = NULL;
	struct stat st;

	if (!seal_test_can_chattr(t->dir))
		fail_msg("chattr +i in %s is refused: run as root on ext4, xfs or tmpfs", t->dir);
	seal_test_write(file, 0, 'x', 1);
	stat(file, &st);
	assert_int_equal(seal_test_chattr(file, true), 0);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, st.st_dev, st.st_ino + 1, file), 0);
	assert_int_equal(journal_replay(j, seal_lift_stale, NULL), 0);
	assert_true(seal_test_immutable(file));
	assert_int_equal(journal_count(j), 0);
	journal_close(&j);
	seal_test_chattr(file, false);
	free(file);
}

static void journal_replay__tolerates_missing_flag_and_file(void **state)
{
	struct jt *t = *state;
	char *file = seal_test_path(t->dir, "plain");
	struct journal *j = NULL;
	struct stat st;

	seal_test_write(file, 0, 'x', 1);
	stat(file, &st);
	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_add(j, st.st_dev, st.st_ino, file), 0);
	assert_int_equal(journal_add(j, 1, 1, "/nonexistent/seal-unit"), 0);
	assert_int_equal(journal_replay(j, seal_lift_stale, NULL), 0);
	assert_int_equal(journal_count(j), 0);
	assert_int_equal(seal_test_flags(file) & FS_IMMUTABLE_FL, 0);
	journal_close(&j);
	free(file);
}

/* journal_close releases the state directory's lock and clears the
 * caller's pointer: a second close through it is a no-op, not a double
 * free, and the next journal_open of the directory succeeds. */
static void journal_close__releases_the_lock_and_clears_the_pointer(void **state)
{
	struct jt *t = *state;
	struct journal *j = NULL, *k = NULL;

	assert_int_equal(journal_open(t->state, &j, NULL, 0), 0);
	assert_int_equal(journal_open(t->state, &k, NULL, 0), -EBUSY);
	journal_close(&j);
	assert_null(j);
	journal_close(&j);
	journal_close(NULL);
	assert_int_equal(journal_open(t->state, &k, NULL, 0), 0);
	assert_non_null(k);
	journal_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(journal_open__creates_state_dir, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_open__second_open_is_ebusy, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_open__state_dir_is_a_file, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_add__persists_across_reopen, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_add__same_dev_ino_replaces, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_add__odd_path_round_trips, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_add__relative_path_is_einval, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_add__leaves_no_temporary, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_remove__persists_and_absent_is_fine, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_open__drops_malformed_lines, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_replay__lifts_recorded_flag, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_replay__leaves_other_inode_alone, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_replay__tolerates_missing_flag_and_file, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(journal_close__releases_the_lock_and_clears_the_pointer, jt_setup, jt_teardown),
	};

	log_init("seal-journal", LOG_LEVEL_ERROR, 0);
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
