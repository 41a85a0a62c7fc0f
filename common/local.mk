noinst_LTLIBRARIES += common/libcommon.la
common_libcommon_la_SOURCES = common/log.c common/log.h common/util.c common/util.h \
	common/fault.c common/fault.h
