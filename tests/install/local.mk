# Installing: a DESTDIR install checked file by file (man pages rendered,
# symbols, pkg-config, a program built against the installed library), and
# the installed systemd unit verified by systemd-analyze.
INSTALL_TESTS = tests/install/install.sh
if INSTALL_SYSTEMD_UNIT
INSTALL_TESTS += tests/install/unit-verify.sh
endif
TESTS += $(INSTALL_TESTS)
EXTRA_DIST += tests/install/lib.sh tests/install/install.sh tests/install/unit-verify.sh \
	tests/install/version.c

# What the tests install and where it goes, as make knows it.
AM_TESTS_ENVIRONMENT += MAKE='$(MAKE)'; CC='$(CC)'; \
	inst_bindir='$(bindir)'; inst_sbindir='$(sbindir)'; inst_libdir='$(libdir)'; \
	inst_includedir='$(includedir)'; inst_mandir='$(mandir)'; \
	inst_sysconfdir='$(sysconfdir)'; inst_pkgconfigdir='$(pkgconfigdir)'; \
	inst_unitdir='$(systemdsystemunitdir)'; inst_sysusersdir='$(sysusersdir)'; \
	inst_bin='$(bin_PROGRAMS)'; inst_sbin='$(sbin_PROGRAMS)'; inst_mans='$(dist_man_MANS)'; \
	inst_san_cflags='$(SAN_CFLAGS)'; inst_san_ldflags='$(SAN_LDFLAGS)'; PKG_CONFIG='$(PKG_CONFIG)'; \
	export MAKE CC inst_bindir inst_sbindir inst_libdir inst_includedir inst_mandir \
	inst_sysconfdir inst_pkgconfigdir inst_unitdir inst_sysusersdir inst_bin inst_sbin \
	inst_mans inst_san_cflags inst_san_ldflags PKG_CONFIG;
