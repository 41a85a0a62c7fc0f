sbin_PROGRAMS += server/sealmrd
server_sealmrd_SOURCES = server/sealmrd.c \
	server/conf.c server/conf.h \
	server/export.c server/export.h \
	server/grant.c server/grant.h \
	server/conn.c server/conn.h \
	server/server.c server/server.h
server_sealmrd_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(INIH_CFLAGS)
server_sealmrd_LDADD = server/libseal.la proto/libproto.la common/libcommon.la \
	$(IBVERBS_LIBS) $(RDMACM_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS) $(LIBPMEM_LIBS)
