# Tools the integration tests drive (built by make check, never installed).
check_PROGRAMS += tests/tools/daxprobe
tests_tools_daxprobe_SOURCES = tests/tools/daxprobe.c
tests_tools_daxprobe_LDADD = $(IBVERBS_LIBS) $(RDMACM_LIBS)
check_PROGRAMS += tests/tools/rawclient
tests_tools_rawclient_SOURCES = tests/tools/rawclient.c
tests_tools_rawclient_LDADD = proto/libproto.la $(IBVERBS_LIBS) $(RDMACM_LIBS)
