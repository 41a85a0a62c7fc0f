# sealmrctl: the administrator's command, a client of the daemon's admin
# socket (server/ADMIN.md); it reads sealmrd.conf only for admin_socket.
sbin_PROGRAMS += ctl/sealmrctl
ctl_sealmrctl_SOURCES = ctl/sealmrctl.c server/admin.h
# admin.h for the default socket path, nothing else of the daemon's.
ctl_sealmrctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/server
ctl_sealmrctl_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(JSONC_CFLAGS)
ctl_sealmrctl_LDADD = common/libcommon.la $(INIH_LIBS) $(JSONC_LIBS)
