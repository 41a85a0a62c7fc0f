# The seal module: sealed mappings (server/seal.h), the FIEMAP checker, the
# seal journal. The daemon links server/libseal.la.
noinst_LTLIBRARIES += server/libseal.la
server_libseal_la_SOURCES = server/seal.c server/seal.h server/seal-internal.h \
	server/seal-prep.c server/seal-watch.c \
	server/fiemap.c server/fiemap.h server/journal.c server/journal.h
server_libseal_la_CFLAGS = $(AM_CFLAGS) $(LIBPMEM_CFLAGS)
server_libseal_la_LIBADD = common/libcommon.la $(LIBPMEM_LIBS)

# sealtool drives the seal API from the shell (integration tests).
noinst_PROGRAMS += tests/tools/sealtool
tests_tools_sealtool_SOURCES = tests/tools/sealtool.c
tests_tools_sealtool_LDADD = server/libseal.la common/libcommon.la $(LIBPMEM_LIBS)
EXTRA_DIST += tests/integration/seal-lib.sh

if HAVE_CMOCKA
SEAL_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
SEAL_UNIT_LDADD = server/libseal.la common/libcommon.la $(LIBPMEM_LIBS) $(CMOCKA_LIBS)

SEAL_UNIT_TESTS = tests/unit/seal/seal-journal tests/unit/seal/seal-fiemap \
	tests/unit/seal/seal-params tests/unit/seal/seal-registry
# Built by make check, run in the VM by tests/integration/seal-unit.t: they
# need root, ext4 without DAX and tmpfs, which a build host may not give.
check_PROGRAMS += $(SEAL_UNIT_TESTS)

tests_unit_seal_seal_journal_SOURCES = tests/unit/seal/seal-journal.c \
	tests/unit/seal/seal-test.h
tests_unit_seal_seal_journal_CFLAGS = $(SEAL_UNIT_CFLAGS)
tests_unit_seal_seal_journal_LDADD = $(SEAL_UNIT_LDADD)

tests_unit_seal_seal_fiemap_SOURCES = tests/unit/seal/seal-fiemap.c \
	tests/unit/seal/seal-test.h
tests_unit_seal_seal_fiemap_CFLAGS = $(SEAL_UNIT_CFLAGS)
tests_unit_seal_seal_fiemap_LDADD = $(SEAL_UNIT_LDADD)

tests_unit_seal_seal_params_SOURCES = tests/unit/seal/seal-params.c \
	tests/unit/seal/seal-test.h
tests_unit_seal_seal_params_CFLAGS = $(SEAL_UNIT_CFLAGS)
tests_unit_seal_seal_params_LDADD = $(SEAL_UNIT_LDADD)

tests_unit_seal_seal_registry_SOURCES = tests/unit/seal/seal-registry.c \
	tests/unit/seal/seal-test.h
tests_unit_seal_seal_registry_CFLAGS = $(SEAL_UNIT_CFLAGS)
tests_unit_seal_seal_registry_LDADD = $(SEAL_UNIT_LDADD)
endif
