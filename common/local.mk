noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = common/log.c common/log.h common/util.c common/util.h \
	common/fault.c common/fault.h

# Every unwinding call of the daemon, the seal module and the library stands
# behind a named failure point (what faults.t walks).
TESTS += tests/lint/fault-points.sh
EXTRA_DIST += tests/lint/fault-points.sh
