# sealmrctl: the administrator's command, a client of the daemon's admin
# socket (server/ADMIN.md); it reads sealmrd.conf only for admin_socket.
sbin_PROGRAMS += ctl/sealmrctl
ctl_sealmrctl_SOURCES = ctl/sealmrctl.c
ctl_sealmrctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(JSONC_CFLAGS)
ctl_sealmrctl_LDADD = common/libcommon.la $(INIH_LIBS) $(JSONC_LIBS)
