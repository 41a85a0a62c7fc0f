# libsealmr (client/lib/) and the sealmr command (client/*.c).
lib_LTLIBRARIES += client/libsealmr.la
client_libsealmr_la_SOURCES = client/lib/sealmr-internal.h \
	client/lib/errmsg.c \
	client/lib/sess.c \
	client/lib/dqp.c \
	client/lib/wr.c \
	client/lib/sess-event.c \
	client/lib/ctrl.c \
	client/lib/grant.c \
	client/lib/xfer.c \
	client/lib/quirk.c \
	client/lib/atomic.c \
	client/lib/buf.c
client_libsealmr_la_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS)
# 1:0:1: sealmr_conn_opts grew qps and sealmr_batch came (interfaces added:
# current+1, age+1); sealmr_connect@SEALMR_0.1 keeps the old struct working.
client_libsealmr_la_LDFLAGS = $(AM_LDFLAGS) -version-info 1:0:1 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/client/libsealmr.map
client_libsealmr_la_LIBADD = proto/libproto.la common/libcommon.la \
	$(IBVERBS_LIBS) $(RDMACM_LIBS)
EXTRA_client_libsealmr_la_DEPENDENCIES = $(top_srcdir)/client/libsealmr.map
EXTRA_DIST += client/libsealmr.map client/libsealmr.pc.in

sealmrincludedir = $(includedir)/sealmr
sealmrinclude_HEADERS = include/sealmr/sealmr.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = client/libsealmr.pc

bin_PROGRAMS += client/sealmr
client_sealmr_SOURCES = client/sealmr.c client/cli.h \
	client/cli-util.c \
	client/cli-xfer.c \
	client/cli-info.c \
	client/cli-bench.c
client_sealmr_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
client_sealmr_LDADD = client/libsealmr.la common/libcommon.la $(JSONC_LIBS)
