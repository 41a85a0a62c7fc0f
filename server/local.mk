sbin_PROGRAMS += server/sealmrd
server_sealmrd_SOURCES = server/sealmrd.c \
	server/conf.c server/conf.h \
	server/export.c server/export.h \
	server/grant.c server/grant.h server/place.c server/place.h \
	server/conn.c server/conn.h server/conn-req.c server/conn-small.c server/conn-data.c \
	server/devwatch.c server/devwatch.h \
	server/admin.c server/admin.h server/admin-req.c server/admin-req.h \
	server/server.c server/server.h server/sweep.c
server_sealmrd_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(INIH_CFLAGS) $(JSONC_CFLAGS)
server_sealmrd_LDADD = server/libseal.la proto/libproto.la common/libcommon.la \
	$(IBVERBS_LIBS) $(RDMACM_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS) $(LIBPMEM_LIBS) $(JSONC_LIBS)

# sealmrctl speaks to the daemon's admin socket (server/ADMIN.md); it reads
# sealmrd.conf only for admin_socket.
sbin_PROGRAMS += server/sealmrctl
server_sealmrctl_SOURCES = server/sealmrctl.c server/admin.h
server_sealmrctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(JSONC_CFLAGS)
server_sealmrctl_LDADD = common/libcommon.la $(INIH_LIBS) $(JSONC_LIBS)
EXTRA_DIST += server/ADMIN.md

# The admin requests apart from the socket, against a server of plain structs.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/admin/admin-req-run
TESTS += tests/unit/admin/admin-req-run
tests_unit_admin_admin_req_run_SOURCES = tests/unit/admin/admin-req-run.c \
	server/admin-req.c server/admin-req.h server/sweep.c
tests_unit_admin_admin_req_run_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JSONC_CFLAGS) \
	$(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_admin_admin_req_run_LDADD = common/libcommon.la $(JSONC_LIBS) $(CMOCKA_LIBS)
endif
