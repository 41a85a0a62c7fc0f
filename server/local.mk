# The daemon's own headers are its own, and the seal module's it uses.
SERVER_CPPFLAGS = -I$(top_srcdir)/server $(SEAL_CPPFLAGS)

sbin_PROGRAMS += server/sealmrd
server_sealmrd_SOURCES = server/sealmrd.c \
	server/conf.c server/conf.h \
	server/export.c server/export.h \
	server/grant.c server/grant.h server/place.c server/place.h server/flush.c server/flush.h \
	server/conn.c server/conn.h server/conn-req.c server/conn-small.c server/conn-data.c \
	server/devwatch.c server/devwatch.h \
	server/admin.c server/admin.h server/admin-req.c server/admin-req.h \
	server/server.c server/server.h server/server-internal.h server/view.c
server_sealmrd_CPPFLAGS = $(AM_CPPFLAGS) $(SERVER_CPPFLAGS)
server_sealmrd_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(INIH_CFLAGS) $(JSONC_CFLAGS)
server_sealmrd_LDADD = seal/libseal.la proto/libproto.la common/libcommon.la \
	$(IBVERBS_LIBS) $(RDMACM_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS) $(LIBPMEM_LIBS) $(JSONC_LIBS)

EXTRA_DIST += server/ADMIN.md

# The admin requests apart from the socket, against a server of plain structs.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/admin/admin-req-run
TESTS += tests/unit/admin/admin-req-run
tests_unit_admin_admin_req_run_SOURCES = tests/unit/admin/admin-req-run.c \
	server/admin-req.c server/admin-req.h server/view.c
tests_unit_admin_admin_req_run_CPPFLAGS = $(AM_CPPFLAGS) $(SERVER_CPPFLAGS)
tests_unit_admin_admin_req_run_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS) \
	$(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_admin_admin_req_run_LDADD = common/libcommon.la $(JSONC_LIBS) $(CMOCKA_LIBS)
endif
