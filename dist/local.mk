# Installing sealmrd as a system service: the systemd unit, the sysusers.d
# snippet that creates its user, an example configuration.
EXTRA_DIST += dist/sealmrd.service.in dist/sealmr.sysusers

# The unit names the installed daemon and configuration: made at make time,
# when $(sbindir) and $(sysconfdir) are final.
dist/sealmrd.service: dist/sealmrd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/dist/sealmrd.service.in > $@.tmp && mv $@.tmp $@
# sysusers.d wants NAME.conf.
dist/sysusers.d/sealmr.conf: dist/sealmr.sysusers
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/dist/sealmr.sysusers $@
CLEANFILES += dist/sealmrd.service dist/sysusers.d/sealmr.conf
noinst_DATA += dist/sealmrd.service dist/sysusers.d/sealmr.conf

if INSTALL_SYSTEMD_UNIT
systemdsystemunit_DATA = dist/sealmrd.service
endif
if INSTALL_SYSUSERS
sysusers_DATA = dist/sysusers.d/sealmr.conf
endif

sealmrconfdir = $(sysconfdir)/sealmr
dist_sealmrconf_DATA = dist/sealmrd.conf.example
