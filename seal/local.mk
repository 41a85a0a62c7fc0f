# Who includes the seal module's headers says so: -I seal is theirs alone.
SEAL_CPPFLAGS = -I$(top_srcdir)/seal

# The seal module: sealed mappings (seal/seal.h), the FIEMAP checker, the
# seal journal. It needs no verbs; the daemon links seal/libseal.la.
noinst_LTLIBRARIES += seal/libseal.la
seal_libseal_la_SOURCES = seal/seal.c seal/seal.h seal/seal-internal.h \
	seal/seal-prep.c seal/seal-watch.c seal/seal-stale.c \
	seal/fiemap.c seal/fiemap.h seal/journal.c seal/journal.h
seal_libseal_la_CPPFLAGS = $(AM_CPPFLAGS) $(SEAL_CPPFLAGS)
seal_libseal_la_CFLAGS = $(AM_CFLAGS) $(LIBPMEM_CFLAGS)
seal_libseal_la_LIBADD = common/libcommon.la $(LIBPMEM_LIBS)

# sealtool drives the seal API from the shell (integration tests).
noinst_PROGRAMS += tests/tools/sealtool
tests_tools_sealtool_SOURCES = tests/tools/sealtool.c
tests_tools_sealtool_CPPFLAGS = $(AM_CPPFLAGS) $(SEAL_CPPFLAGS)
tests_tools_sealtool_LDADD = seal/libseal.la common/libcommon.la $(LIBPMEM_LIBS)
EXTRA_DIST += tests/integration/seal-lib.sh

if HAVE_CMOCKA
# cmocka's flags are -I (pkg-config --cflags): with CPPFLAGS, each program
# needs two lines and its SOURCES default to its name.c.
SEAL_UNIT_CPPFLAGS = $(AM_CPPFLAGS) $(SEAL_CPPFLAGS) $(CMOCKA_CFLAGS)
SEAL_UNIT_LDADD = seal/libseal.la common/libcommon.la $(LIBPMEM_LIBS) $(CMOCKA_LIBS)

SEAL_UNIT_TESTS = tests/unit/seal/seal-journal tests/unit/seal/seal-fiemap \
	tests/unit/seal/seal-params tests/unit/seal/seal-registry
# Built by make check, run in the VM by tests/integration/seal-unit.t: they
# need root, ext4 without DAX and tmpfs, which a build host may not give.
check_PROGRAMS += $(SEAL_UNIT_TESTS)
EXTRA_DIST += tests/unit/seal/seal-test.h

tests_unit_seal_seal_journal_CPPFLAGS = $(SEAL_UNIT_CPPFLAGS)
tests_unit_seal_seal_journal_LDADD = $(SEAL_UNIT_LDADD)
tests_unit_seal_seal_fiemap_CPPFLAGS = $(SEAL_UNIT_CPPFLAGS)
tests_unit_seal_seal_fiemap_LDADD = $(SEAL_UNIT_LDADD)
tests_unit_seal_seal_params_CPPFLAGS = $(SEAL_UNIT_CPPFLAGS)
tests_unit_seal_seal_params_LDADD = $(SEAL_UNIT_LDADD)
tests_unit_seal_seal_registry_CPPFLAGS = $(SEAL_UNIT_CPPFLAGS)
tests_unit_seal_seal_registry_LDADD = $(SEAL_UNIT_LDADD)
endif
